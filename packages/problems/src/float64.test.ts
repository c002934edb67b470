import { describe, expect, it } from 'vitest';
import { tf, type InstanceSet } from '@l2o/core';
import { applyA, applyAt } from './float64.js';
import { Lasso } from './lasso.js';
import { LogisticL1 } from './logistic-l1.js';
import { fFloat64, randomLasso, randomLogistic } from './test-utils/random-instances.js';

const l1 = (x: ArrayLike<number>) => Array.from(x).reduce((s, v) => s + Math.abs(v), 0);

describe.each([
  ['lasso', () => new Lasso(), (seed: number) => randomLasso(3, 12, 30, seed)],
  ['logistic-l1', () => new LogisticL1(), (seed: number) => randomLogistic(3, 60, 15, seed)],
] as const)('%s in float64', (_id, make, instances) => {
  const problem = make();
  const host = problem.float64;

  it('F(x) is f + λ‖x‖₁ of an independent float64 sum, and the engine agrees to float32 rounding', () => {
    const set = instances(1);
    const x = Float64Array.from({ length: set.n }, (_, j) => Math.sin(j + 1) / 3);
    const batch = problem.toBatch(set);
    const xt = tf.tensor2d(
      Float32Array.from({ length: set.count * set.n }, (_, k) => x[k % set.n]!),
      [set.count, set.n],
    );
    const engine = problem.objective(batch, xt).dataSync();
    for (let i = 0; i < set.count; i++) {
      const expected = fFloat64(set, i, x) + set.lambda * l1(x);
      expect(host.objective(set, i, x)).toBeCloseTo(expected, 12);
      expect(Math.abs(engine[i]! - expected) / expected).toBeLessThan(1e-5);
    }
    tf.dispose(xt);
    problem.disposeBatch(batch);
  });

  it('solves to a relative KKT residual of 1e-12 from zero, and its F* is a minimum: no nearby point is lower', () => {
    const set = instances(2);
    for (let i = 0; i < set.count; i++) {
      const s = host.solve(set, i, new Float64Array(set.n), { tolerance: 1e-12, maxIterations: 20_000 });
      expect(s.kkt).toBeLessThanOrEqual(1e-12);
      expect(s.f).toBe(host.objective(set, i, s.x));
      // Convexity: F* ≤ F at random perturbations (relative 1e-12 for rounding).
      for (let trial = 0; trial < 20; trial++) {
        const y = s.x.map((v, j) => v + 1e-4 * Math.cos(7 * j + trial));
        expect(host.objective(set, i, y)).toBeGreaterThanOrEqual(s.f * (1 - 1e-12));
      }
      // Warm-started at its own solution it stops at once, with the same point.
      const again = host.solve(set, i, s.x, { tolerance: 1e-12, maxIterations: 20_000 });
      expect(again.iterations).toBe(0);
      expect(again.f).toBe(s.f);
    }
  });
});

describe('lasso float64 against a closed form', () => {
  it('with A = I the solution is the soft threshold of b, to rounding', () => {
    const n = 16;
    const A = new Float32Array(n * n);
    for (let j = 0; j < n; j++) A[j * n + j] = 1;
    const b = Float32Array.from({ length: n }, (_, j) => Math.sin(3 * j) * 2);
    const lambda = 0.7;
    const set: InstanceSet = { problem: 'lasso', count: 1, m: n, n, lambda, sharedA: true, A, b, meta: {} };
    const s = new Lasso().float64.solve(set, 0, new Float64Array(n), { tolerance: 1e-14, maxIterations: 1000 });
    const expected = Array.from(b, (v) => Math.sign(v) * Math.max(Math.abs(v) - lambda, 0));
    s.x.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 14));
    const fStar = expected.reduce((sum, v, j) => sum + 0.5 * (v - b[j]!) ** 2 + lambda * Math.abs(v), 0);
    expect(Math.abs(s.f - fStar) / fStar).toBeLessThan(1e-15);
  });

  it('a shared A is solved per instance with its own b', () => {
    const one = randomLasso(1, 10, 20, 5);
    const set: InstanceSet = { ...one, count: 2, b: Float32Array.from([...one.b, ...one.b.map((v) => -v)]) };
    const host = new Lasso().float64;
    const [a, b] = [0, 1].map((i) =>
      host.solve({ ...set, sharedA: false, A: Float32Array.from([...one.A, ...one.A]) }, i, new Float64Array(20), { tolerance: 1e-12, maxIterations: 10_000 }),
    );
    const shared = [0, 1].map((i) => host.solve({ ...set, A: one.A, sharedA: true }, i, new Float64Array(20), { tolerance: 1e-12, maxIterations: 10_000 }));
    // b → −b mirrors the solution; the shared and per-instance layouts agree.
    a!.x.forEach((v, j) => expect(b!.x[j]).toBeCloseTo(-v, 12));
    expect(shared[0]!.f).toBeCloseTo(a!.f, 13);
    expect(shared[1]!.f).toBeCloseTo(b!.f, 13);
  });
});

describe('A x in float64', () => {
  it('gives the same floats as one row at a time, each summed in order, for every row count and both layouts', () => {
    for (const m of [1, 3, 4, 5, 7, 8, 9, 33]) {
      const set = randomLasso(2, m, 13, m);
      const x = Float32Array.from({ length: 13 }, (_, j) => Math.cos(j) * 3);
      for (const [layout, i] of [
        [set, 1],
        [{ ...set, sharedA: true }, 1],
      ] as const) {
        const base = layout.sharedA ? 0 : i * m * 13;
        const expected = new Float64Array(m);
        for (let r = 0; r < m; r++) {
          let sum = 0;
          for (let j = 0; j < 13; j++) sum += layout.A[base + r * 13 + j]! * x[j]!;
          expected[r] = sum;
        }
        const z = new Float64Array(m);
        applyA(layout, i, x, z);
        expect(z).toEqual(expected);
      }
    }
  });

  it('Aᵀ w gives the same floats as one row at a time in row order, rows of weight 0 skipped, for every row count', () => {
    for (const m of [1, 3, 4, 5, 7, 8, 9, 33]) {
      const set = randomLasso(2, m, 13, m);
      // Some weights 0 (as the residual of a logistic instance can be), in and out of groups of four.
      const w = Float64Array.from({ length: m }, (_, r) => (r % 5 === 2 ? 0 : Math.sin(r + 1) / 3));
      const base = m * 13;
      const expected = new Float64Array(13);
      for (let r = 0; r < m; r++) {
        if (w[r] === 0) continue;
        for (let j = 0; j < 13; j++) expected[j]! += set.A[base + r * 13 + j]! * w[r]!;
      }
      const g = new Float64Array(13).fill(7); // overwritten, not added to
      applyAt(set, 1, w, g);
      expect(g).toEqual(expected);
    }
  });
});
