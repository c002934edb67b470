import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { batchMatMul } from './batch-mat-mul.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

const rng = new Rng('batch-mat-mul test');
const tensor3d = (b: number, r: number, c: number) => tf.tensor3d(rng.normals(b * r * c), [b, r, c]);

/** Largest absolute difference, against a float32 bound for sums of k products of standard normals. */
function expectClose(actual: tf.Tensor, expected: tf.Tensor, k: number) {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  expect(worst).toBeLessThanOrEqual(4 * k * k * 2 ** -24 + 1e-6);
}

// [batch, m, k, n]: attention's shapes (L tokens, d lanes) and odd sizes that exercise the scalar tails.
const SHAPES = [
  [16, 50, 4, 50],
  [16, 50, 50, 4],
  [3, 7, 5, 9],
  [2, 1, 1, 1],
  [2, 6, 13, 3],
] as const;

const TRANSPOSITIONS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('batchMatMul on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  for (const [b, m, k, n] of SHAPES) {
    for (const [tA, tB] of TRANSPOSITIONS) {
      it(`runs the platform kernel, equal to tfjs's matMul at [${b}, ${m}, ${k}]·[${b}, ${k}, ${n}] (transposeA ${tA}, transposeB ${tB}) to float32 rounding`, async () => {
        const a = tA ? tensor3d(b, k, m) : tensor3d(b, m, k);
        const bb = tB ? tensor3d(b, n, k) : tensor3d(b, k, n);
        const profile = await tf.profile(() => tf.tidy(() => expectClose(batchMatMul(a, bb, tA, tB), tf.matMul(a, bb, tA, tB), k)));
        expect(profile.kernelNames).toContain('L2oBatchMatMul');
        tf.dispose([a, bb]);
      });
    }
  }

  it('is exact where every partial sum is (small integers)', () => {
    tf.tidy(() => {
      const ints = (count: number, shift: number) => Array.from({ length: count }, (_, i) => ((i * 7 + shift) % 11) - 5);
      const a = tf.tensor3d(ints(2 * 6 * 9, 1), [2, 6, 9]);
      const b = tf.tensor3d(ints(2 * 9 * 5, 3), [2, 9, 5]);
      const at = tf.tensor3d(ints(2 * 9 * 6, 2), [2, 9, 6]);
      expect(Array.from(batchMatMul(a, b).dataSync())).toEqual(Array.from(tf.matMul(a, b).dataSync()));
      expect(Array.from(batchMatMul(at, b, true).dataSync())).toEqual(Array.from(tf.matMul(at, b, true).dataSync()));
    });
  });

  it("has tfjs matMul's gradients in both operands, for every transposition", () => {
    tf.tidy(() => {
      const [b, m, k, n] = [3, 6, 5, 7];
      for (const [tA, tB] of TRANSPOSITIONS) {
        const a = tA ? tensor3d(b, k, m) : tensor3d(b, m, k);
        const bb = tB ? tensor3d(b, n, k) : tensor3d(b, k, n);
        const w = tensor3d(b, m, n);
        const loss = (f: typeof batchMatMul) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor3D, y as tf.Tensor3D, tA, tB), w));
        const [da, db] = tf.grads(loss(batchMatMul))([a, bb]);
        const [daRef, dbRef] = tf.grads(loss((x, y, p, q) => tf.matMul(x, y, p, q)))([a, bb]);
        expectClose(da!, daRef!, Math.max(m, n, k));
        expectClose(db!, dbRef!, Math.max(m, n, k));
      }
    });
  });

  it('agrees with a finite difference of attention through it', () => {
    tf.tidy(() => {
      const [b, L, d] = [2, 5, 3];
      const q = tensor3d(b, L, d);
      const k = tensor3d(b, L, d);
      const v = tensor3d(b, L, d);
      const attention = (x: tf.Tensor) => tf.sum(tf.square(batchMatMul(tf.softmax(batchMatMul(x as tf.Tensor3D, k, false, true)), v)));
      const grad = tf.grad(attention)(q).dataSync();
      const q0 = q.dataSync();
      const h = 1e-2;
      for (const i of [0, 4, 13, 29]) {
        const plus = Float32Array.from(q0);
        const minus = Float32Array.from(q0);
        plus[i]! += h;
        minus[i]! -= h;
        const fd = (attention(tf.tensor3d(plus, [b, L, d])).dataSync()[0]! - attention(tf.tensor3d(minus, [b, L, d])).dataSync()[0]!) / (2 * h);
        // Central difference: O(h²) truncation on a smooth function of order-one curvature.
        expect(Math.abs(fd - grad[i]!)).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(grad[i]!)));
      }
    });
  });

  it('leaves no tensor behind, forward or backward', () => {
    const a = tensor3d(2, 4, 3);
    const b = tensor3d(2, 4, 5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        batchMatMul(a, b, true, false);
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D, true, false)))([a, b]);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('gives zeros for empty sums, and leaves mismatched or broadcast shapes to tfjs (and its errors)', () => {
    tf.tidy(() => {
      expect(Array.from(batchMatMul(tf.zeros([2, 2, 0]), tf.zeros([2, 0, 1])).dataSync())).toEqual([0, 0, 0, 0]);
      expect(() => batchMatMul(tensor3d(2, 3, 4), tensor3d(2, 5, 6))).toThrow(/inner shapes/);
      const broadcast = batchMatMul(tensor3d(1, 3, 4), tensor3d(2, 4, 2));
      expect(broadcast.shape).toEqual([2, 3, 2]);
    });
  });

  it('with L2O_KERNELS=tfjs is tfjs matMul, bit for bit', () => {
    process.env.L2O_KERNELS = 'tfjs';
    tf.tidy(() => {
      const a = tensor3d(4, 30, 20);
      const b = tensor3d(4, 30, 20);
      expect(Array.from(batchMatMul(a, b, false, true).dataSync())).toEqual(Array.from(tf.matMul(a, b, false, true).dataSync()));
    });
  });
});

/** The product summed over the inner index in order from `start`, one rounding per multiply and per add (float64 → float32 each time). */
function sequentialProduct(
  a: tf.TypedArray,
  b: tf.TypedArray,
  [batch, m, k, n]: readonly [number, number, number, number],
  transposeA: boolean,
  bias?: tf.TypedArray,
): Float32Array {
  const out = new Float32Array(batch * m * n);
  for (let p = 0; p < batch; p++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = bias ? bias[j]! : 0;
        for (let t = 0; t < k; t++) {
          const x = transposeA ? a[p * k * m + t * m + i]! : a[p * m * k + i * k + t]!;
          s = Math.fround(s + Math.fround(x * b[p * k * n + t * n + j]!));
        }
        out[p * m * n + i * n + j] = s;
      }
  return out;
}

/** How often tfjs's WASM backend was asked for a tensor's `id` while `run` ran (how its own C++ kernels name tensors; the platform's read heap offsets). */
function idReads(run: () => void): number {
  const storage = (tf.backend() as unknown as { dataIdMap: { get(id: object): object | undefined } }).dataIdMap;
  const get = storage.get.bind(storage);
  let reads = 0;
  // An own property over the class's method, deleted afterwards.
  storage.get = (id: object) => {
    const record = get(id);
    return (
      record &&
      new Proxy(record, {
        get: (target, key): unknown => {
          if (key === 'id') reads++;
          return Reflect.get(target, key) as unknown;
        },
      })
    );
  };
  try {
    run();
  } finally {
    delete (storage as { get?: unknown }).get;
  }
  return reads;
}

describe("tfjs's own matMul on WASM, run by the platform's product kernels", () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  // [batch, m, k, n]: the recurrent cells' products (8,000 coordinates of hidden 16 and 3·16 gates),
  // and sizes around the 4 × 8 blocks, their 4-column and single-column tails and the 128-row chunks.
  const PRODUCT_SHAPES = [
    [1, 1000, 16, 48],
    [1, 1000, 48, 16],
    [1, 1000, 2, 48],
    [1, 1000, 16, 1],
    [1, 37, 33, 7],
    [1, 5, 1, 13],
    [3, 6, 300, 9],
    [2, 3, 129, 14],
  ] as const;

  for (const [batch, m, k, n] of PRODUCT_SHAPES) {
    it(`sums in order from 0 or the bias, and equals tfjs's own kernels bit for bit, at [${batch}, ${m}, ${k}]·[${batch}, ${k}, ${n}]`, () => {
      tf.tidy(() => {
        const a = tensor3d(batch, m, k);
        const b = tensor3d(batch, k, n);
        const bias = tf.tensor1d(rng.normals(n));
        const shape = [batch, m, k, n] as const;
        const plain = () => tf.matMul(a, b);
        const fused = () => tf.fused.matMul({ a, b, bias });
        // One matrix by another: XNNPACK's order, which the platform's kernel has (tfjs's batches sum in blocks).
        if (batch === 1) {
          expect(plain().dataSync()).toEqual(sequentialProduct(a.dataSync(), b.dataSync(), shape, false));
          expect(fused().dataSync()).toEqual(sequentialProduct(a.dataSync(), b.dataSync(), shape, false, bias.dataSync()));
        }
        // Aᵀ·B, the weights' gradients (batchMatMul: tfjs's own sums in another order).
        const at = tensor3d(batch, k, m);
        expect(batchMatMul(at, b, true).dataSync()).toEqual(sequentialProduct(at.dataSync(), b.dataSync(), shape, true));
        process.env.L2O_KERNELS = 'tfjs';
        const [plainStock, fusedStock] = [plain().dataSync(), fused().dataSync()];
        delete process.env.L2O_KERNELS;
        expect(plain().dataSync()).toEqual(plainStock);
        expect(fused().dataSync()).toEqual(fusedStock);
      });
    });
  }

  it("runs the platform's kernel for one untransposed matrix by another (with a bias or without), tfjs's for the rest", () => {
    tf.tidy(() => {
      const [a, b, bias] = [tf.tensor2d(rng.normals(40 * 8), [40, 8]), tf.tensor2d(rng.normals(8 * 12), [8, 12]), tf.tensor1d(rng.normals(12))];
      const ours = [() => tf.matMul(a, b), () => tf.fused.matMul({ a, b, bias }), () => tf.matMul(tf.reshape(a, [1, 40, 8]), b)];
      const theirs = [
        () => tf.matMul(a, a, true, false),
        () => tf.matMul(b, b, false, true),
        () => tf.fused.matMul({ a, b, bias, activation: 'relu' }),
        () => tf.matMul(tf.reshape(a, [2, 20, 8]), b),
      ];
      for (const product of ours) expect(idReads(product)).toBe(0);
      for (const product of theirs) expect(idReads(product)).toBeGreaterThan(0);
      process.env.L2O_KERNELS = 'tfjs';
      for (const product of ours) expect(idReads(product)).toBeGreaterThan(0);
    });
  });
});
