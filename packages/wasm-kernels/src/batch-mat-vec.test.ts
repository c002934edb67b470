import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineLabel, Rng, selectEngine, tf } from '@l2o/core';
import { batchGram, batchMatVec, batchNormalResidual } from './batch-mat-vec.js';
import { kernelChoice, l2oKernelsActive } from './wasm-kernel.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

/** tfjs's own batched product: the reference the kernel must agree with. */
const tfjsMatVec = (A: tf.Tensor3D, v: tf.Tensor2D, transposeA = false) =>
  tf.tidy(() => tf.squeeze<tf.Tensor2D>(tf.matMul(A, tf.expandDims(v, 2), transposeA, false), [2]));

/** A products' float32 tolerance: n terms of size |a||v| each, rounded n times. */
function expectClose(actual: tf.Tensor, expected: tf.Tensor, scale: number) {
  const a = actual.dataSync();
  const e = expected.dataSync();
  expect(actual.shape).toEqual(expected.shape);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  expect(worst).toBeLessThanOrEqual(scale);
}

const rng = new Rng('batch-mat-vec test');
const tensor3d = (b: number, m: number, n: number) => tf.tensor3d(rng.normals(b * m * n), [b, m, n]);
const tensor2d = (b: number, k: number) => tf.tensor2d(rng.normals(b * k), [b, k]);

describe('batchMatVec on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  it('runs the platform kernel on WASM, and says so in the engine label', () => {
    expect(l2oKernelsActive()).toBe(true);
    expect(engineLabel('wasm')).toBe('wasm+l2o-kernels');
    process.env.L2O_KERNELS = 'tfjs';
    expect(l2oKernelsActive()).toBe(false);
    expect(engineLabel('wasm')).toBe('wasm');
  });

  // Sizes with n and m not multiples of four exercise the scalar tails of the SIMD loops.
  for (const [b, m, n] of [
    [3, 7, 5],
    [2, 1, 1],
    [4, 250, 500],
    [5, 351, 34],
    [1, 9, 13],
  ] as const) {
    it(`A·v and Aᵀ·v equal tfjs's matMul at [${b}, ${m}, ${n}] to float32 rounding`, () => {
      tf.tidy(() => {
        const A = tensor3d(b, m, n);
        const x = tensor2d(b, n);
        const r = tensor2d(b, m);
        // Terms are products of two standard normals: rounding error ≲ k·ε·(sum of |terms|) ≈ k·ε·k.
        expectClose(batchMatVec(A, x), tfjsMatVec(A, x, false), 4 * n * n * 2 ** -24 + 1e-6);
        expectClose(batchMatVec(A, r, true), tfjsMatVec(A, r, true), 4 * m * m * 2 ** -24 + 1e-6);
      });
    });
  }

  it('is exact where every partial sum is (small integers)', () => {
    tf.tidy(() => {
      const ints = (count: number) => Array.from({ length: count }, (_, i) => ((i * 7) % 11) - 5);
      const A = tf.tensor3d(ints(2 * 6 * 9), [2, 6, 9]);
      const x = tf.tensor2d(ints(2 * 9).reverse(), [2, 9]);
      const r = tf.tensor2d(ints(2 * 6), [2, 6]);
      expect(Array.from(batchMatVec(A, x).dataSync())).toEqual(Array.from(tfjsMatVec(A, x, false).dataSync()));
      expect(Array.from(batchMatVec(A, r, true).dataSync())).toEqual(Array.from(tfjsMatVec(A, r, true).dataSync()));
    });
  });

  it('has the gradients of tfjs matMul in both arguments, both orientations', () => {
    tf.tidy(() => {
      const [b, m, n] = [3, 10, 7];
      const A = tensor3d(b, m, n);
      const x = tensor2d(b, n);
      const r = tensor2d(b, m);
      const wOut = tensor2d(b, m);
      const wOutT = tensor2d(b, n);
      const loss = (f: typeof batchMatVec, transposeA: boolean) => (a: tf.Tensor, v: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor3D, v as tf.Tensor2D, transposeA), transposeA ? wOutT : wOut));
      for (const transposeA of [false, true]) {
        const v = transposeA ? r : x;
        const [dA, dv] = tf.grads(loss(batchMatVec, transposeA))([A, v]);
        const [dARef, dvRef] = tf.grads(loss(tfjsMatVec, transposeA))([A, v]);
        expectClose(dA!, dARef!, 1e-6);
        expectClose(dv!, dvRef!, 1e-5);
      }
    });
  });

  it('agrees with a finite difference of the loss through it', () => {
    tf.tidy(() => {
      const [b, m, n] = [2, 4, 6];
      const A = tensor3d(b, m, n);
      const x = tensor2d(b, n);
      // F(x) = ½‖A x‖² + ⟨c, Aᵀ A x⟩ runs both orientations; its gradient is Aᵀ A x + Aᵀ A c.
      const c = tensor2d(b, n);
      const F = (t: tf.Tensor) => {
        const v = t as tf.Tensor2D;
        const Ax = batchMatVec(A, v);
        return tf.add(tf.mul(0.5, tf.sum(tf.square(Ax))), tf.sum(tf.mul(c, batchMatVec(A, Ax, true))));
      };
      const grad = tf.grad(F)(x).dataSync();
      const x0 = x.dataSync();
      const h = 1e-2;
      for (const k of [0, 5, 7, 11]) {
        const plus = Float32Array.from(x0);
        const minus = Float32Array.from(x0);
        plus[k]! += h;
        minus[k]! -= h;
        // F is quadratic: the central difference is exact up to float32 evaluation error.
        const fd = (F(tf.tensor2d(plus, [b, n])).dataSync()[0]! - F(tf.tensor2d(minus, [b, n])).dataSync()[0]!) / (2 * h);
        expect(fd).toBeCloseTo(grad[k]!, 1);
        expect(Math.abs(fd - grad[k]!)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(grad[k]!)));
      }
    });
  });

  it('with constantA, has the same values and gradient in v, and the tape keeps no copy of A', () => {
    const [b, m, n] = [3, 40, 60];
    const A = tensor3d(b, m, n);
    const x = tensor2d(b, n);
    const w = tensor2d(b, n);
    // Bytes held while the tape is recording, after five products (the forward pass's end).
    const taped = (constantA: boolean) => {
      let held = 0;
      const before = tf.memory().numBytes;
      const [dx] = tf.grads((v: tf.Tensor) => {
        let y = v as tf.Tensor2D;
        for (let i = 0; i < 5; i++) y = batchMatVec(A, batchMatVec(A, y, false, { constantA }), true, { constantA });
        held = tf.memory().numBytes - before;
        return tf.sum(tf.mul(y, w));
      })([x]);
      return { held, dx: dx! };
    };
    const plain = taped(false);
    const constant = taped(true);
    expect(Array.from(constant.dx.dataSync())).toEqual(Array.from(plain.dx.dataSync()));
    // Ten products, each of which saves A (b·m·n floats) and its vector (b·n or b·m) when A is
    // not constant; with constantA neither is needed (dv = Aᵀ·dy).
    expect(plain.held - constant.held).toBe(4 * (10 * b * m * n + 5 * b * n + 5 * b * m));
    tf.dispose([A, x, w, plain.dx, constant.dx]);
  });

  it('with constantA, says so in one line when A was disposed before the backward pass', () => {
    const x = tensor2d(2, 3);
    expect(() =>
      tf.grad((v: tf.Tensor) => {
        const A = tensor3d(2, 4, 3);
        const y = batchMatVec(A, v as tf.Tensor2D, false, { constantA: true });
        A.dispose();
        return tf.sum(y);
      })(x),
    ).toThrow(/constant A was disposed before the backward pass/);
    x.dispose();
  });

  for (const [b, m, n] of [
    [3, 7, 5],
    [2, 25, 50],
    [1, 1, 9],
  ] as const) {
    it(`batchGram: A·Aᵀ and Aᵀ·A equal tfjs's matMul at [${b}, ${m}, ${n}] to float32 rounding, and are symmetric`, () => {
      tf.tidy(() => {
        const A = tensor3d(b, m, n);
        const rows = batchGram(A);
        const columns = batchGram(A, true);
        expectClose(rows, tf.matMul(A, A, false, true), 4 * n * n * 2 ** -24 + 1e-6);
        expectClose(columns, tf.matMul(A, A, true, false), 4 * m * m * 2 ** -24 + 1e-6);
        // Row k of G is A·A[k]: G[i][k] and G[k][i] are the same dot product, summed in the same order.
        expect(Array.from(rows.dataSync())).toEqual(Array.from(tf.transpose(rows, [0, 2, 1]).dataSync()));
      });
    });
  }

  it('leaves no tensor behind, forward or backward', () => {
    const A = tensor3d(2, 5, 6);
    const x = tensor2d(2, 6);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      tf.tidy(() => {
        batchMatVec(A, batchMatVec(A, x), true);
        tf.grads((a: tf.Tensor, v: tf.Tensor) => tf.sum(batchMatVec(a as tf.Tensor3D, v as tf.Tensor2D)))([A, x]);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([A, x]);
  });

  it('gives zeros for empty sums and empty results for empty batches', () => {
    tf.tidy(() => {
      expect(Array.from(batchMatVec(tf.zeros([2, 3, 0]), tf.zeros([2, 0])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Array.from(batchMatVec(tf.zeros([2, 0, 3]), tf.zeros([2, 0]), true).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      expect(batchMatVec(tf.zeros([0, 3, 4]), tf.zeros([0, 4])).shape).toEqual([0, 3]);
    });
  });

  it('with L2O_KERNELS=tfjs is tfjs matMul, bit for bit', () => {
    process.env.L2O_KERNELS = 'tfjs';
    tf.tidy(() => {
      const A = tensor3d(3, 50, 70);
      const x = tensor2d(3, 70);
      expect(Array.from(batchMatVec(A, x).dataSync())).toEqual(Array.from(tfjsMatVec(A, x, false).dataSync()));
      expect(Array.from(batchGram(A).dataSync())).toEqual(Array.from(tf.matMul(A, A, false, true).dataSync()));
      expect(Array.from(batchGram(A, true).dataSync())).toEqual(Array.from(tf.matMul(A, A, true, false).dataSync()));
    });
  });

  it('refuses an L2O_KERNELS it does not know, naming the choices', () => {
    process.env.L2O_KERNELS = 'fast';
    expect(() => kernelChoice()).toThrow(/L2O_KERNELS is 'fast'/);
  });
});

describe('batchNormalResidual on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  /** Aᵀ(A x − y) by the two products and a subtraction: what one pass over A must equal. */
  const twoProducts = (A: tf.Tensor3D, x: tf.Tensor2D, y?: tf.Tensor2D) =>
    tf.tidy(() => {
      const Ax = batchMatVec(A, x, false, { constantA: true });
      return batchMatVec(A, y ? tf.sub(Ax, y) : Ax, true, { constantA: true });
    });

  // The papers' LASSO size and odd sizes (the kernel's four-lane tails).
  for (const [b, m, n] of [
    [4, 250, 500],
    [3, 7, 9],
    [2, 1, 3],
  ] as const) {
    it(`equals the two products bit for bit, values and gradients in x and y, at [${b}, ${m}, ${n}]`, async () => {
      const [A, x, y, w] = [tensor3d(b, m, n), tensor2d(b, n), tensor2d(b, m), tensor2d(b, n)];
      // Σ w ⊙ g(x) with g applied twice: the backward runs the kernel (no y) on the gradient.
      const loss = (g: typeof twoProducts) => (xs: tf.Tensor, ys: tf.Tensor) =>
        tf.sum(tf.mul(w, g(A, tf.add(xs, g(A, xs as tf.Tensor2D, ys as tf.Tensor2D)), ys as tf.Tensor2D)));
      let fused: tf.Tensor[] = [];
      const profile = await tf.profile(() => {
        fused = [batchNormalResidual(A, x, y), batchNormalResidual(A, x), ...tf.grads(loss(batchNormalResidual))([x, y])];
      });
      expect(profile.kernelNames).toContain('L2oBatchNormalResidual');
      const plain = [twoProducts(A, x, y), twoProducts(A, x), ...tf.grads(loss(twoProducts))([x, y])];
      for (let i = 0; i < plain.length; i++) expect(fused[i]!.dataSync()).toEqual(plain[i]!.dataSync());
      tf.dispose([A, x, y, w, ...fused, ...plain]);
    });
  }

  it("equals tfjs's matMul to float32 rounding, and is tfjs's ops with L2O_KERNELS=tfjs", () => {
    tf.tidy(() => {
      const [A, x, y] = [tensor3d(3, 20, 30), tensor2d(3, 30), tensor2d(3, 20)];
      const reference = tfjsMatVec(A, tf.sub(tfjsMatVec(A, x), y), true);
      expectClose(batchNormalResidual(A, x, y), reference, 2e-4);
      process.env.L2O_KERNELS = 'tfjs';
      expect(batchNormalResidual(A, x, y).dataSync()).toEqual(twoProducts(A, x, y).dataSync());
    });
  });

  it('says so in one line when A was disposed before the backward pass, and leaves no tensor behind', () => {
    const [A, x] = [tensor3d(2, 5, 6), tensor2d(2, 6)];
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grad((v: tf.Tensor) => tf.sum(batchNormalResidual(A, v as tf.Tensor2D)))(x);
    });
    expect(tf.memory().numTensors).toBe(before);
    const doomed = tensor3d(2, 5, 6);
    expect(() =>
      tf.tidy(() =>
        tf.grad((v: tf.Tensor) => {
          const g = tf.sum(batchNormalResidual(doomed, v as tf.Tensor2D));
          doomed.dispose();
          return g;
        })(x),
      ),
    ).toThrow(/A was disposed before the backward pass/);
    tf.dispose([A, x]);
  });
});

describe('batchMatVec on the cpu engine', () => {
  it('is tfjs matMul (the kernel is registered for WASM only)', async () => {
    await selectEngine('cpu');
    try {
      expect(l2oKernelsActive()).toBe(false);
      expect(engineLabel('cpu')).toBe('cpu');
      tf.tidy(() => {
        const A = tensor3d(2, 4, 3);
        const r = tensor2d(2, 4);
        expect(Array.from(batchMatVec(A, r, true).dataSync())).toEqual(Array.from(tfjsMatVec(A, r, true).dataSync()));
      });
    } finally {
      await selectEngine('wasm');
    }
  });
});
