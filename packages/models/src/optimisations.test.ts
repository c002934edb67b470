// Every speed-motivated rewrite must give the plain formulation's values and gradients to float32
// tolerance: affine with its own gradient vs tfjs matMul autodiff, tanh through the sigmoid vs
// tf.tanh, per-gate products vs one product and a split.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { affine, coordinateFeatures, gateProduct, tanh } from './ops.js';

beforeAll(async () => {
  await selectEngine('wasm');
});

const rng = new Rng(1);
const rand = (shape: number[]) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape);
function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 2e-5): void {
  const [x, y] = [a.dataSync(), b.dataSync()];
  expect(x.length).toBe(y.length);
  const scale = Math.max(1, ...Array.from(y, Math.abs));
  x.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThan(tol * scale));
}

describe('optimised ops equal their plain forms', () => {
  it('affine: values and gradients of x, W, b', () => {
    const [x, w, b, dy] = [rand([37, 5]), rand([7, 5]), rand([7]), rand([37, 7])];
    const plain = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.add(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D, false, true), bb);
    const fast = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => affine(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D);
    expectClose(fast(x, w, b), plain(x, w, b));
    const gPlain = tf.grads((xx, ww, bb) => tf.sum(tf.mul(plain(xx, ww, bb), dy)))([x, w, b]);
    const gFast = tf.grads((xx, ww, bb) => tf.sum(tf.mul(fast(xx, ww, bb), dy)))([x, w, b]);
    gFast.forEach((g, i) => expectClose(g, gPlain[i]!));
  });

  it('coordinate features: exactly tf.stack on the last axis, gradients too', () => {
    const [a, b, c] = [rand([3, 7]), rand([3, 7]), rand([3, 7])] as tf.Tensor2D[];
    const plain = (xs: tf.Tensor[]) => tf.reshape(tf.stack(xs, 2), [21, xs.length]);
    expect(coordinateFeatures([a!, b!, c!]).shape).toEqual([21, 3]);
    expect(Array.from(coordinateFeatures([a!, b!, c!]).dataSync())).toEqual(Array.from(plain([a!, b!, c!]).dataSync()));
    const dy = rand([21, 2]);
    const gPlain = tf.grads((x, y) => tf.sum(tf.mul(plain([x, y]), dy)))([a!, b!]);
    const gFast = tf.grads((x, y) => tf.sum(tf.mul(coordinateFeatures([x as tf.Tensor2D, y as tf.Tensor2D]), dy)))([a!, b!]);
    gFast.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(gPlain[i]!.dataSync())));
  });

  it('tanh through the sigmoid: values and gradient', () => {
    const x = tf.mul(rand([1000]), 4);
    expectClose(tanh(x), tf.tanh(x), 1e-6);
    expectClose(tf.grad((v) => tf.sum(tanh(v)))(x), tf.grad((v) => tf.sum(tf.tanh(v)))(x), 1e-6);
  });

  it('per-gate products equal one product split into gates', () => {
    const x = rand([11, 3]) as tf.Tensor2D;
    const w = tf.variable(rand([12, 3]));
    const b = tf.variable(rand([12]));
    const whole = tf.split(tf.add(tf.matMul(x, w, false, true), b), 4, 1);
    for (let k = 0; k < 4; k++) expectClose(gateProduct(x, w, b, k, 3), whole[k]!);
    w.dispose();
    b.dispose();
  });
});
