import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectEngine, tf } from '@l2o/core';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

/** Buffers the WASM backend holds (shared ones once). */
const buffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('the copying kernels on WASM', () => {
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

  it('a saved tensor is a handle on its buffer, made without a kernel call or a tape node; the gradient is unchanged', () => {
    const x = tf.tensor1d([0.5, -1, 2, 3]);
    const f = (v: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(v), tf.square(v)));
    /** The gradient, the Identity kernels run and the tape's length while recording it. */
    const record = () => {
      const tensorsBefore = tf.memory().numTensors;
      let tape = 0;
      const profile = tf.tidy(() => {
        const kernels: string[] = [];
        const identity = tf.getKernel(tf.Identity, 'wasm');
        if (!identity) throw new Error('no Identity kernel on WASM');
        const counted = identity.kernelFunc;
        identity.kernelFunc = (args) => (kernels.push(tf.Identity), counted(args));
        let grad: number[];
        try {
          grad = Array.from(
            tf
              .grad((v: tf.Tensor) => {
                const out = f(v);
                tape = (tf.engine() as unknown as { state: { activeTape: unknown[] } }).state.activeTape.length;
                return out;
              })(x)
              .dataSync(),
          );
        } finally {
          identity.kernelFunc = counted;
        }
        return { grad, identities: kernels.length };
      });
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      return { ...profile, tape };
    };
    const shared = record();
    process.env.L2O_KERNELS = 'tfjs';
    const stock = record();
    expect(shared.grad).toEqual(stock.grad);
    // sigmoid, square and mul save five tensors: a clone each, and its tape node, with tfjs's engine.
    expect(stock.identities).toBeGreaterThanOrEqual(5);
    expect(shared.identities).toBe(0);
    expect(stock.tape - shared.tape).toBe(stock.identities);
    x.dispose();
  });

  // Every slice and unstack equals tfjs's stock kernel's (L2O_KERNELS=tfjs) exactly: contiguous,
  // strided in every position, negative and implicit sizes, int32 and bool, empty.
  const sliceCases: [number[], number[], number[]][] = [
    [
      [8, 4000, 16],
      [3, 0, 0],
      [1, 4000, 16],
    ],
    [
      [8, 40, 16],
      [2, 5, 0],
      [3, 7, 16],
    ],
    [
      [8, 40, 16],
      [0, 5, 3],
      [8, 7, 9],
    ],
    [
      [6, 5, 4, 3],
      [1, 2, 1, 0],
      [4, 2, 3, 3],
    ],
    [
      [6, 5, 4, 3],
      [0, 0, 0, 1],
      [-1, -1, -1, 1],
    ],
    [
      [7, 33],
      [2, 1],
      [3, 31],
    ],
    [
      [7, 33],
      [0, 0],
      [7, 33],
    ],
    [[100], [17], [40]],
    [
      [5, 4],
      [2, 1],
      [0, 3],
    ],
  ];
  it.each(sliceCases)('slices %j at %j of size %j as the stock kernel does', (shape, begin, size) => {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(
        Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : i * 1.5 - 7)),
        shape,
        dtype,
      );
      const ours = tf.slice(x, begin, size);
      process.env.L2O_KERNELS = 'tfjs';
      const stock = tf.slice(x, begin, size);
      delete process.env.L2O_KERNELS;
      expect(ours.shape).toEqual(stock.shape);
      expect(ours.dtype).toBe(dtype);
      expect(Array.from(ours.dataSync())).toEqual(Array.from(stock.dataSync()));
      tf.dispose([x, ours, stock]);
    }
  });

  it.each([
    [[8, 400, 16], 0],
    [[8, 40, 16], 1],
    [[8, 40, 6], 2],
    [[3, 5], -1],
  ] as const)('unstacks %j along axis %i as the stock kernel does', (shape, axis) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(
      Array.from({ length: n }, (_, i) => Math.sin(i)),
      [...shape],
    );
    const ours = tf.unstack(x, axis);
    process.env.L2O_KERNELS = 'tfjs';
    const stock = tf.unstack(x, axis);
    delete process.env.L2O_KERNELS;
    expect(ours.map((t) => t.shape)).toEqual(stock.map((t) => t.shape));
    ours.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(stock[i]!.dataSync())));
    tf.dispose([x, ...ours, ...stock]);
  });

  it('the gradient through a stack (an unstack) is unchanged', () => {
    const parts = [0, 1, 2].map((k) => tf.tensor2d([k, 2 * k, -k, 0.5], [2, 2]));
    const w = tf.tensor3d(
      Array.from({ length: 12 }, (_, i) => i - 5),
      [3, 2, 2],
    );
    const grads = () =>
      tf.tidy(() =>
        tf
          .grads((...p: tf.Tensor[]) => tf.sum(tf.mul(tf.stack(p, 0), w)))(parts)
          .map((g) => Array.from(g.dataSync())),
      );
    expect(grads()).toEqual([0, 1, 2].map((k) => Array.from(w.dataSync().slice(4 * k, 4 * k + 4))));
    tf.dispose([...parts, w]);
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
