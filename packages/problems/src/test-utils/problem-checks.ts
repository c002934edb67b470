import { expect, it } from 'vitest';
import { Rng, tf, type InstanceSet, type Problem } from '@l2o/core';
import { entry, fFloat64, softThresholdFloat64 } from './random-instances.js';

/**
 * The checks every l1-regularised problem must pass, against float64 plain-JS references.
 * Called inside a describe whose beforeAll selected the engine.
 */
export function checkAgainstFloat64(make: () => { problem: Problem; set: InstanceSet }): void {
  const xFor = (set: InstanceSet, seed: number, scale = 1) => new Rng(seed).normals(set.count * set.n).map((v) => v * scale);
  const row = (x: Float32Array, set: InstanceSet, i: number) => Float64Array.from(x.subarray(i * set.n, (i + 1) * set.n));

  it('has ∇f equal to central differences of a float64 f', () => {
    const { problem, set } = make();
    const x = xFor(set, 11, 0.3);
    const batch = problem.toBatch(set);
    const g = tf.tidy(() => problem.grad(batch, tf.tensor2d(x, [set.count, set.n]))).dataSync();
    const h = 1e-6;
    for (let i = 0; i < set.count; i++) {
      for (let j = 0; j < set.n; j++) {
        const xp = row(x, set, i);
        const xm = Float64Array.from(xp);
        xp[j]! += h;
        xm[j]! -= h;
        const fd = (fFloat64(set, i, xp) - fFloat64(set, i, xm)) / (2 * h);
        // float64 central differences are exact to ~1e-9 here (h² f''' and 1e-16·|f|/h). The
        // float32 gradient sums m products |a_rj·r_r| ≲ 10 with rounding ~6e-8 each: ≲ 1e-5.
        expect(Math.abs(g[i * set.n + j]! - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
    }
    problem.disposeBatch(batch);
  });

  it('computes f and F = f + λ‖x‖₁ as a float64 reference does', () => {
    const { problem, set } = make();
    const x = xFor(set, 5);
    const batch = problem.toBatch(set);
    const [f, F] = tf.tidy(() => {
      const xt = tf.tensor2d(x, [set.count, set.n]);
      return [problem.f(batch, xt).dataSync(), problem.objective(batch, xt).dataSync()];
    });
    for (let i = 0; i < set.count; i++) {
      const ref = fFloat64(set, i, row(x, set, i));
      const l1 = row(x, set, i).reduce((a, v) => a + Math.abs(v), 0);
      // float32 sums of ≲ 100 terms: relative error ≲ 1e-5.
      expect(Math.abs(f[i]! - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
      expect(Math.abs(F[i]! - (ref + set.lambda * l1))).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref + set.lambda * l1)));
    }
    problem.disposeBatch(batch);
  });

  it('has the exact soft-threshold prox, with a per-coordinate, a per-instance and a scalar step', () => {
    const { problem, set } = make();
    const rng = new Rng(7);
    const v = rng.normals(set.count * set.n);
    const perCoordinate = Float32Array.from({ length: set.count * set.n }, () => rng.uniform() * 3);
    const perInstance = Float32Array.from({ length: set.count }, () => rng.uniform() * 3);
    const batch = problem.toBatch(set);
    const cases: [tf.Tensor, (k: number) => number][] = [
      [tf.tensor2d(perCoordinate, [set.count, set.n]), (k) => perCoordinate[k]!],
      [tf.tensor2d(perInstance, [set.count, 1]), (k) => perInstance[Math.floor(k / set.n)]!],
      [tf.scalar(0.7), () => 0.7],
    ];
    for (const [step, stepAt] of cases) {
      const out = tf.tidy(() => problem.prox(batch, tf.tensor2d(v, [set.count, set.n]), step)).dataSync();
      v.forEach((vi, k) => {
        const t = set.lambda * Math.fround(stepAt(k));
        // float32 λ·step and |v| − λ·step: a few ulps (6e-8 relative each) of max(|v|, t).
        expect(Math.abs(out[k]! - softThresholdFloat64(vi, t))).toBeLessThanOrEqual(3e-7 * Math.max(Math.abs(vi), t));
        // Exactly zero (not merely small) inside the threshold, away from float32 ties.
        if (Math.abs(vi) < t * (1 - 1e-6)) expect(Math.abs(out[k]!)).toBe(0);
      });
      step.dispose();
    }
    problem.disposeBatch(batch);
  });

  it.each([
    ['half the coordinates zero', (x: Float32Array) => x.map((v, k) => (k % 2 ? 0 : v))],
    ['x = 0', (x: Float32Array) => x.fill(0)],
  ])('gives the subgradient ∇f + λ sign(x) and the KKT residual coordinate by coordinate at %s', (_name, shape) => {
    const { problem, set } = make();
    const x = shape(xFor(set, 9));
    const batch = problem.toBatch(set);
    const [g, sub, kkt] = tf.tidy(() => {
      const xt = tf.tensor2d(x, [set.count, set.n]);
      return [problem.grad(batch, xt).dataSync(), problem.subgradient(batch, xt).dataSync(), problem.kktResidual(batch, xt).dataSync()];
    });
    const lam = set.lambda;
    for (let i = 0; i < set.count; i++) {
      let worst = 0;
      for (let j = 0; j < set.n; j++) {
        const k = i * set.n + j;
        const expected = g[k]! + lam * Math.sign(x[k]!);
        expect(sub[k]!).toBeCloseTo(expected, 6);
        worst = Math.max(worst, x[k] === 0 ? Math.max(Math.abs(g[k]!) - lam, 0) : Math.abs(expected));
      }
      expect(kkt[i]!).toBeCloseTo(worst, 5);
    }
    problem.disposeBatch(batch);
  });

  it('gives the same f, ∇f and L with one shared A as with A repeated per instance', () => {
    const { problem, set } = make();
    const sharedMatrix = set.A.slice(0, set.m * set.n);
    const shared: InstanceSet = { ...set, sharedA: true, A: sharedMatrix };
    const repeated: InstanceSet = {
      ...set,
      sharedA: false,
      A: Float32Array.from({ length: set.count * set.m * set.n }, (_, k) => sharedMatrix[k % (set.m * set.n)]!),
    };
    expect(entry(shared, 1, 0, 1)).toBe(entry(repeated, 1, 0, 1));
    const x = xFor(set, 3);
    const [bs, br] = [problem.toBatch(shared), problem.toBatch(repeated)];
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [set.count, set.n]);
      const close = (a: tf.Tensor, b: tf.Tensor, tol: number) => {
        const [av, bv] = [a.dataSync(), b.dataSync()];
        av.forEach((v, k) => expect(Math.abs(v - bv[k]!)).toBeLessThan(tol * Math.max(1, Math.abs(v))));
      };
      close(problem.objective(bs, xt), problem.objective(br, xt), 1e-5);
      close(problem.grad(bs, xt), problem.grad(br, xt), 1e-5);
      close(bs.L, br.L, 1e-5);
    });
    problem.disposeBatch(bs);
    problem.disposeBatch(br);
  });

  it('allocates nothing that outlives a call', () => {
    const { problem, set } = make();
    const batch = problem.toBatch(set);
    const x = tf.tensor2d(xFor(set, 2), [set.count, set.n]);
    const step = tf.fill([set.count, set.n], 0.3);
    const before = tf.memory().numTensors;
    const outputs = [
      problem.f(batch, x),
      problem.grad(batch, x),
      problem.prox(batch, x, step),
      problem.objective(batch, x),
      problem.subgradient(batch, x),
      problem.kktResidual(batch, x),
    ];
    expect(tf.memory().numTensors).toBe(before + outputs.length);
    tf.dispose([...outputs, x, step]);
    problem.disposeBatch(batch);
  });

  it('rejects bad instance data before computing anything', () => {
    const { problem, set } = make();
    const bad = (patch: Partial<InstanceSet>) => () => problem.toBatch({ ...set, ...patch });
    const before = tf.memory().numTensors;
    expect(bad({ b: set.b.subarray(1) })).toThrow(/b has \d+ values, expected/);
    expect(bad({ A: set.A.subarray(3) })).toThrow(/A has \d+ values, expected/);
    expect(bad({ sharedA: true })).toThrow(/A has \d+ values, expected/);
    expect(bad({ xTrue: new Float32Array(1) })).toThrow(/xTrue has 1 values/);
    expect(bad({ lambda: -0.1 })).toThrow(/λ must be a finite number ≥ 0/);
    expect(bad({ lambda: Number.NaN })).toThrow(/λ must be a finite number ≥ 0/);
    expect(bad({ m: 0 })).toThrow(/m must be a positive integer/);
    expect(bad({ n: -2 })).toThrow(/n must be a positive integer/);
    expect(bad({ count: 0 })).toThrow(/count must be a positive integer/);
    expect(bad({ problem: 'other' })).toThrow(/are for 'other'/);
    const nanA = Float32Array.from(set.A);
    nanA[4] = Number.NaN;
    expect(bad({ A: nanA })).toThrow(/A holds a non-finite value \(NaN\) at flat index 4/);
    const infB = Float32Array.from(set.b);
    infB[1] = Number.POSITIVE_INFINITY;
    expect(bad({ b: infB })).toThrow(/b holds a non-finite value \(Infinity\) at flat index 1/);
    expect(tf.memory().numTensors).toBe(before);
  });
}
