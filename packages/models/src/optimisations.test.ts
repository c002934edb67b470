// Every speed-motivated rewrite must give the plain formulation's values and gradients to float32
// tolerance: affine with its own gradient vs tfjs matMul autodiff, tanh through the sigmoid vs
// tf.tanh, per-gate products vs one product and a split.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { affine, coordinateFeatures, detach, gateProduct, tanh } from './ops.js';

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
  // The weight's gradient runs on the platform's Aᵀ·B kernel, or on tfjs's matMul with L2O_KERNELS=tfjs.
  for (const kernels of ['l2o', 'tfjs'] as const) {
    it(`affine: values and gradients of x, W, b, and without b (${kernels} kernels)`, () => {
      process.env.L2O_KERNELS = kernels;
      try {
        const [x, w, b, dy] = [rand([37, 5]), rand([7, 5]), rand([7]), rand([37, 7])];
        const plain = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => {
          const product = tf.matMul(xx, ww, false, true);
          return bb ? tf.add(product, bb) : product;
        };
        const fast = (xx: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => affine(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D | undefined);
        expectClose(fast(x, w, b), plain(x, w, b));
        expectClose(fast(x, w), plain(x, w));
        const gPlain = tf.grads((xx, ww, bb) => tf.sum(tf.mul(plain(xx, ww, bb), dy)))([x, w, b]);
        const gFast = tf.grads((xx, ww, bb) => tf.sum(tf.mul(fast(xx, ww, bb), dy)))([x, w, b]);
        gFast.forEach((g, i) => expectClose(g, gPlain[i]!));
        const gPlainNoBias = tf.grads((xx, ww) => tf.sum(tf.mul(plain(xx, ww), dy)))([x, w]);
        const gFastNoBias = tf.grads((xx, ww) => tf.sum(tf.mul(fast(xx, ww), dy)))([x, w]);
        gFastNoBias.forEach((g, i) => expectClose(g, gPlainNoBias[i]!));
      } finally {
        delete process.env.L2O_KERNELS;
      }
    });
  }

  it("affine on a detached input: the same gradients, and no product for the input's (which detach drops)", async () => {
    const [x0, w, dy] = [rand([37, 5]), rand([7, 5]), rand([37, 7])];
    const loss = (detached: boolean) => (xx: tf.Tensor, ww: tf.Tensor) => {
      const input = tf.mul<tf.Tensor2D>(xx, 2);
      return tf.sum(tf.mul(affine(detached ? detach(input) : input, ww as tf.Tensor2D), dy));
    };
    let grads: tf.Tensor[] = [];
    const products = async (detached: boolean) => {
      const profile = await tf.profile(() => {
        grads = tf.grads(loss(detached))([x0, w]);
      });
      return profile.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul').length;
    };
    // Forward x·Wᵀ, and dx = dy·W unless detached (dW is the platform's Aᵀ·B kernel).
    expect(await products(false)).toBe(2);
    const plain = grads;
    expect(await products(true)).toBe(1);
    expect(Array.from(grads[0]!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(grads[1]!.dataSync())).toEqual(Array.from(plain[1]!.dataSync()));
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
