import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeReplacedState, disposeState, selectEngine, tf, type InstanceSet, type Optimizer, type OptimizerState, type Problem } from '@l2o/core';
import { Lasso, LogisticL1 } from '@l2o/problems';
import { Adam } from './adam.js';
import { Fista } from './fista.js';
import { Ista } from './ista.js';
import { Sgd } from './sgd.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

/** The papers' toy LASSO: A N(0,1) with unit columns, x* s-sparse, b = A x*, λ = 0.1. */
function toyLasso(count: number, m: number, n: number, s: number, seed: number): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < n; j++) {
      let norm = 0;
      for (let r = 0; r < m; r++) norm += A[(i * m + r) * n + j]! ** 2;
      for (let r = 0; r < m; r++) A[(i * m + r) * n + j]! /= Math.sqrt(norm);
    }
  }
  const b = new Float32Array(count * m);
  for (let i = 0; i < count; i++) {
    const x = new Float64Array(n);
    for (const j of rng.sample(n, s)) x[j] = rng.normal();
    for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) b[i * m + r]! += A[(i * m + r) * n + j]! * x[j]!;
  }
  return { problem: 'lasso', count, m, n, lambda: 0.1, sharedA: false, A, b, meta: {} };
}

function logisticSet(count: number, m: number, n: number, seed: number): InstanceSet {
  const rng = new Rng(seed);
  const A = rng.normals(count * m * n);
  const b = new Float32Array(count * m);
  for (let i = 0; i < count; i++) {
    const x = Float64Array.from({ length: n }, (_, j) => (j < 3 ? rng.normal() : 0));
    for (let r = 0; r < m; r++) {
      let z = 0;
      for (let j = 0; j < n; j++) z += A[(i * m + r) * n + j]! * x[j]!;
      b[i * m + r] = z + 0.3 * rng.normal() >= 0 ? 1 : 0;
    }
  }
  return { problem: 'logistic-l1', count, m, n, lambda: 0.05, sharedA: false, A, b, meta: {} };
}

/** Runs K steps, returning F per iteration [K+1][count] and the final x. */
function run(problem: Problem, optimizer: Optimizer, set: InstanceSet, K: number) {
  const batch = problem.toBatch(set);
  let state: OptimizerState = optimizer.init(problem, batch);
  const F: number[][] = [Array.from(problem.objective(batch, state.x).dataSync())];
  for (let k = 0; k < K; k++) {
    const next = tf.tidy(() => optimizer.step(problem, batch, state, { k, training: false }));
    disposeReplacedState(state, next);
    state = next;
    F.push(Array.from(tf.tidy(() => problem.objective(batch, state.x)).dataSync()));
  }
  const kkt = Array.from(tf.tidy(() => problem.kktResidual(batch, state.x)).dataSync());
  const x = Array.from(state.x.dataSync());
  disposeState(state);
  problem.disposeBatch(batch);
  return { F, x, kkt, L: set };
}

const lasso = new Lasso();
const logistic = new LogisticL1();

describe('FISTA and ISTA', () => {
  it.each([
    ['lasso', lasso, toyLasso(4, 20, 40, 5, 1), 3000],
    ['logistic-l1', logistic, logisticSet(3, 60, 10, 2), 3000],
  ] as const)('solve %s to the KKT conditions within 1e-4 and agree on F*', (_n, problem, set, K) => {
    const fista = run(problem, new Fista(), set, K);
    for (const r of fista.kkt) expect(r).toBeLessThan(1e-4);
    const ista = run(problem, new Ista(), set, 4 * K);
    const [fF, iF] = [fista.F.at(-1)!, ista.F.at(-1)!];
    fF.forEach((f, i) => expect(Math.abs(f - iF[i]!) / Math.abs(f)).toBeLessThan(1e-5));
  });

  it("keeps ISTA's F monotone and FISTA within its 2L‖x₀ − x*‖²/(k+1)² bound", () => {
    const set = toyLasso(4, 20, 40, 5, 3);
    const batch = lasso.toBatch(set);
    const L = Array.from(batch.L.dataSync());
    lasso.disposeBatch(batch);
    const reference = run(lasso, new Fista(), set, 5000);
    const fStar = reference.F.at(-1)!;
    const ista = run(lasso, new Ista(), set, 300);
    for (let k = 1; k < ista.F.length; k++) {
      // float32 rounding of F (≈ 1e-7 relative) is the only slack.
      ista.F[k]!.forEach((f, i) => expect(f).toBeLessThanOrEqual(ista.F[k - 1]![i]! * (1 + 1e-6)));
    }
    const fista = run(lasso, new Fista(), set, 300);
    for (let i = 0; i < set.count; i++) {
      const distSq = reference.x.slice(i * set.n, (i + 1) * set.n).reduce((a, v) => a + v * v, 0); // x₀ = 0
      for (let k = 1; k <= 300; k++) {
        const bound = (2 * L[i]! * distSq) / (k + 1) ** 2;
        expect(fista.F[k]![i]! - fStar[i]!).toBeLessThanOrEqual(bound + 1e-5 * fStar[i]!);
      }
    }
  });
});

describe('subgradient baselines', () => {
  it('decrease F on LASSO with their defaults', () => {
    const set = toyLasso(4, 20, 40, 5, 4);
    for (const optimizer of [new Sgd(), new Adam(), new Sgd({ decay: 1 })]) {
      const { F } = run(lasso, optimizer, set, 200);
      const mean = (row: number[]) => row.reduce((a, b) => a + b, 0) / row.length;
      expect(mean(F.at(-1)!)).toBeLessThan(0.5 * mean(F[0]!));
    }
  });

  it('take exactly the Adam step on the first iteration', () => {
    // At x = 0 the subgradient is ∇f(0) = −Aᵀb (sign(0) = 0); Adam's first step is −lr·g/(|g| + eps).
    const set = toyLasso(1, 5, 6, 2, 5);
    const batch = lasso.toBatch(set);
    const adam = new Adam({ lr: 0.05 });
    const state = adam.init(lasso, batch);
    const next = adam.step(lasso, batch, state, { k: 0, training: false });
    const g = lasso.grad(batch, state.x).dataSync();
    next.x.dataSync().forEach((v, j) => expect(v).toBeCloseTo((-0.05 * g[j]!) / (Math.abs(g[j]!) + 1e-8), 6));
    tf.dispose([state.x, state.m, state.v, next.x, next.m, next.v]);
    lasso.disposeBatch(batch);
  });
});

describe('every baseline', () => {
  it.each<Optimizer>([new Ista(), new Fista(), new Sgd(), new Adam()])('$id keeps the tensor count flat', (optimizer) => {
    const set = toyLasso(2, 10, 12, 3, 6);
    const batch = lasso.toBatch(set);
    let state = tf.tidy(() => optimizer.init(lasso, batch));
    const counts: number[] = [];
    for (let k = 0; k < 50; k++) {
      const next = tf.tidy(() => optimizer.step(lasso, batch, state, { k, training: false }));
      disposeReplacedState(state, next);
      state = next;
      counts.push(tf.memory().numTensors);
    }
    expect(counts[49]).toBe(counts[4]);
    disposeState(state);
    lasso.disposeBatch(batch);
  });

  it('rejects unknown and invalid options', () => {
    expect(() => new Fista({ step: 1 })).toThrow(expect.objectContaining({ message: "Unknown option 'step' for fista.", hint: 'Known options: stepScale.' }));
    expect(() => new Adam({ beta1: 1 })).toThrow(/adam option beta1 must be a valid number/);
    expect(() => new Sgd({ lr: -1 })).toThrow(/sgd option lr must be a positive number/);
    expect(() => new Ista({ stepScale: 'big' })).toThrow(/must be a positive number, got "big"/);
  });
});
