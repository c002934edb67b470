import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine.js';
import { tf } from '../tf.js';

/** Buffers the WASM backend holds (shared ones once). */
const buffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('Identity on WASM shares the buffer', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  it('a clone is the same buffer, reference-counted: it outlives its source and is freed with the last', () => {
    const before = buffers();
    const x = tf.tensor2d([1, -2, 3.5, 4], [2, 2]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(buffers()).toBe(before + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 4]);
    expect(buffers()).toBe(before + 1);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it('a gradient through saved tensors is unchanged, and the tape keeps no copies', () => {
    const x = tf.tensor1d([0.5, -1, 2, 3]);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(v), tf.square(v)));
    const grad = (v: tf.Tensor) => tf.tidy(() => Array.from(tf.grad(f)(v).dataSync()));
    const buffersDuring = (v: tf.Tensor) =>
      tf.tidy(() => {
        let peak = 0;
        tf.grad((w: tf.Tensor) => {
          const out = f(w);
          peak = buffers();
          return out;
        })(v);
        return peak;
      });
    const shared = grad(x);
    const sharedBuffers = buffersDuring(x);
    process.env.L2O_KERNELS = 'tfjs';
    const copied = grad(x);
    const copiedBuffers = buffersDuring(x);
    expect(shared).toEqual(copied);
    // σ(v), v², and the products' inputs are saved: each a copy with tfjs's Identity.
    expect(sharedBuffers).toBeLessThan(copiedBuffers);
    x.dispose();
  });

  it('with L2O_KERNELS=tfjs a clone is a copy', () => {
    process.env.L2O_KERNELS = 'tfjs';
    const x = tf.tensor1d([1, 2]);
    const y = tf.clone(x);
    expect(y.dataId).not.toBe(x.dataId);
    expect(Array.from(y.dataSync())).toEqual([1, 2]);
    tf.dispose([x, y]);
  });
});
