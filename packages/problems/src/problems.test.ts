import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf, type InstanceSet } from '@l2o/core';
import { Lasso } from './lasso.js';
import { LogisticL1 } from './logistic-l1.js';
import { fFloat64, randomLasso, randomLogistic } from './test-utils/random-instances.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

const lasso = new Lasso();
const logistic = new LogisticL1();

/** Largest eigenvalue of AᵀA in float64 by 5,000 power iterations. */
function spectralNormSqFloat64(set: InstanceSet, i: number): number {
  const { m, n } = set;
  const A = (r: number, j: number) => set.A[(set.sharedA ? 0 : i * m * n) + r * n + j]!;
  let v = Float64Array.from({ length: n }, (_, j) => 1 + j * 0.01);
  let lambda = 0;
  for (let it = 0; it < 5000; it++) {
    const Av = Array.from({ length: m }, (_, r) => v.reduce((s, vj, j) => s + A(r, j) * vj, 0));
    const w = Float64Array.from({ length: n }, (_, j) => Av.reduce((s, a, r) => s + A(r, j) * a, 0));
    const norm = Math.hypot(...w);
    lambda = norm / Math.hypot(...v);
    v = w.map((x) => x / norm);
  }
  return lambda;
}

describe.each([
  ['lasso', lasso, randomLasso(3, 7, 9, 1)],
  ['logistic-l1', logistic, randomLogistic(3, 12, 6, 2)],
] as const)('%s', (_name, problem, set) => {
  it('has ∇f equal to central finite differences of f computed in float64', () => {
    const rng = new Rng(11);
    const x = rng.normals(set.count * set.n).map((v) => v * 0.3);
    const batch = problem.toBatch(set);
    const g = tf.tidy(() => problem.grad(batch, tf.tensor2d(x, [set.count, set.n]))).dataSync();
    const h = 1e-6;
    for (let i = 0; i < set.count; i++) {
      for (let j = 0; j < set.n; j++) {
        const xp = Float64Array.from(x.subarray(i * set.n, (i + 1) * set.n));
        const xm = Float64Array.from(xp);
        xp[j] += h;
        xm[j] -= h;
        const fd = (fFloat64(set, i, xp) - fFloat64(set, i, xm)) / (2 * h);
        // The tfjs gradient is float32: relative error ~1e-6 of the terms summed (|A||r| ≲ 10 here).
        expect(Math.abs(g[i * set.n + j]! - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
    }
    problem.disposeBatch(batch);
  });

  it('computes f matching a float64 reference', () => {
    const x = new Rng(5).normals(set.count * set.n);
    const batch = problem.toBatch(set);
    const f = tf.tidy(() => problem.f(batch, tf.tensor2d(x, [set.count, set.n]))).dataSync();
    for (let i = 0; i < set.count; i++) {
      const ref = fFloat64(set, i, Float64Array.from(x.subarray(i * set.n, (i + 1) * set.n)));
      expect(Math.abs(f[i]! - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    }
    problem.disposeBatch(batch);
  });

  it('has the exact soft-threshold prox with a per-coordinate step', () => {
    const rng = new Rng(7);
    const v = rng.normals(set.count * set.n);
    const step = Float32Array.from({ length: set.count * set.n }, () => rng.uniform() * 3);
    const batch = problem.toBatch(set);
    const out = tf.tidy(() => problem.prox(batch, tf.tensor2d(v, [set.count, set.n]), tf.tensor2d(step, [set.count, set.n]))).dataSync();
    v.forEach((vi, k) => {
      const t = set.lambda * step[k]!;
      const expected = Math.sign(vi) * Math.max(Math.abs(vi) - t, 0);
      expect(Math.abs(out[k]! - expected)).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(vi)));
      if (Math.abs(vi) <= t) expect(Math.abs(out[k]!)).toBe(0); // exactly zero (±0) inside the threshold
    });
    problem.disposeBatch(batch);
  });

  it('computes L by power iteration to 1e-4 of a float64 reference', () => {
    const batch = problem.toBatch(set);
    const L = batch.L.dataSync();
    for (let i = 0; i < set.count; i++) {
      const normSq = spectralNormSqFloat64(set, i);
      const expected = problem.id === 'lasso' ? normSq : normSq / (4 * set.m);
      expect(Math.abs(L[i]! - expected) / expected).toBeLessThan(1e-4);
    }
    problem.disposeBatch(batch);
  });

  it('rejects bad instance data before computing', () => {
    const bad = (patch: Partial<InstanceSet>) => () => problem.toBatch({ ...set, ...patch });
    const before = tf.memory().numTensors;
    expect(bad({ b: set.b.subarray(1) })).toThrow(/b has \d+ values, expected/);
    expect(bad({ A: set.A.subarray(3) })).toThrow(/A has \d+ values, expected/);
    expect(bad({ lambda: -0.1 })).toThrow(/λ must be a finite number ≥ 0/);
    expect(bad({ m: 0 })).toThrow(/m must be a positive integer/);
    expect(bad({ n: -2 })).toThrow(/n must be a positive integer/);
    const nanA = Float32Array.from(set.A);
    nanA[4] = Number.NaN;
    expect(bad({ A: nanA })).toThrow(/A holds a non-finite value \(NaN\) at flat index 4/);
    const infB = Float32Array.from(set.b);
    infB[1] = Number.POSITIVE_INFINITY;
    expect(bad({ b: infB })).toThrow(/b holds a non-finite value/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('logistic-l1', () => {
  it('stays finite for logits of ±1e4', () => {
    const set: InstanceSet = { problem: 'logistic-l1', count: 1, m: 2, n: 1, lambda: 0.1, sharedA: false, A: Float32Array.from([1, -1]), b: Float32Array.from([0, 0]), meta: {} };
    const batch = logistic.toBatch(set);
    for (const x of [1e4, -1e4]) {
      const F = tf.tidy(() => logistic.objective(batch, tf.tensor2d([[x]]))).dataSync()[0]!;
      // One logit is +1e4 with label 0 (loss 1e4), the other −1e4 (loss ~0): f = 1e4/2.
      expect(Number.isFinite(F)).toBe(true);
      expect(F).toBeCloseTo(5000 + 0.1 * 1e4, 0);
      const g = tf.tidy(() => logistic.grad(batch, tf.tensor2d([[x]]))).dataSync()[0]!;
      expect(Number.isFinite(g)).toBe(true);
    }
    logistic.disposeBatch(batch);
  });

  it('rejects labels other than 0 and 1, and unknown options', () => {
    const set = randomLogistic(1, 4, 3, 1);
    set.b[2] = -1;
    expect(() => logistic.toBatch(set)).toThrow(/labels must be 0 or 1; b holds -1 at flat index 2/);
    expect(() => new LogisticL1({ lipschitz: 'loose' })).toThrow(/lipschitz must be 'tight' or 'paper'/);
    expect(() => new LogisticL1({ lipshitz: 'paper' })).toThrow(/Unknown option 'lipshitz' for logistic-l1/);
  });

  it('uses ‖A‖₂ as L with lipschitz: paper', () => {
    const set = randomLogistic(2, 10, 4, 3);
    const tight = logistic.toBatch(set);
    const paper = new LogisticL1({ lipschitz: 'paper' });
    const loose = paper.toBatch(set);
    const [lt, lp] = [tight.L.dataSync(), loose.L.dataSync()];
    for (let i = 0; i < 2; i++) expect(lp[i]!).toBeCloseTo(Math.sqrt(lt[i]! * 4 * set.m), 3);
    logistic.disposeBatch(tight);
    paper.disposeBatch(loose);
  });
});

describe('shared A', () => {
  it('gives the same f and ∇f as the same matrix repeated per instance', () => {
    const rng = new Rng(3);
    const A = rng.normals(5 * 8);
    const b = rng.normals(3 * 5);
    const shared: InstanceSet = { problem: 'lasso', count: 3, m: 5, n: 8, lambda: 0.5, sharedA: true, A, b, meta: {} };
    const dense: InstanceSet = { ...shared, sharedA: false, A: Float32Array.from({ length: 3 * 40 }, (_, k) => A[k % 40]!) };
    const x = tf.tensor2d(rng.normals(24), [3, 8]);
    const [bs, bd] = [lasso.toBatch(shared), lasso.toBatch(dense)];
    const close = (a: tf.Tensor, c: tf.Tensor) => Array.from(a.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(c.dataSync()[k]!, 4));
    close(lasso.objective(bs, x), lasso.objective(bd, x));
    close(lasso.grad(bs, x), lasso.grad(bd, x));
    close(bs.L, bd.L);
    lasso.disposeBatch(bs);
    lasso.disposeBatch(bd);
  });
});
