import { expect } from 'vitest';
import { Rng, disposeReplacedState, disposeState, tf, type InstanceSet, type Optimizer, type OptimizerState, type Problem } from '@l2o/core';
import { Lasso } from '@l2o/problems';

/** The papers' toy LASSO: A N(0,1) with unit columns, x* s-sparse N(0,1), b = A x*, λ = 0.1. */
export function toyLasso(count: number, m: number, n: number, s: number, seed: number): InstanceSet {
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

/** Small logistic instances: A N(0,1), labels from a 3-sparse signal plus noise (not separable). */
export function logisticSet(count: number, m: number, n: number, seed: number): InstanceSet {
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

export interface Run {
  /** F(x_k) per iteration k = 0..K, per instance. */
  F: number[][];
  /** The last iterate, [count·n] row-major. */
  x: number[];
  /** KKT residual at the last iterate, per instance. */
  kkt: number[];
  /** L per instance. */
  L: number[];
}

/** Runs K steps the way the evaluator does (caller disposes replaced states), recording F at x. */
export function run(problem: Problem, optimizer: Optimizer, set: InstanceSet, K: number): Run {
  const batch = problem.toBatch(set);
  let state: OptimizerState = optimizer.init(problem, batch);
  const F: number[][] = [Array.from(tf.tidy(() => problem.objective(batch, state.x)).dataSync())];
  for (let k = 0; k < K; k++) {
    const next = tf.tidy(() => optimizer.step(problem, batch, state, { k, training: false }));
    disposeReplacedState(state, next);
    state = next;
    F.push(Array.from(tf.tidy(() => problem.objective(batch, state.x)).dataSync()));
  }
  const kkt = Array.from(tf.tidy(() => problem.kktResidual(batch, state.x)).dataSync());
  const x = Array.from(state.x.dataSync());
  const L = Array.from(batch.L.dataSync());
  disposeState(state);
  problem.disposeBatch(batch);
  return { F, x, kkt, L };
}

/** 50 steps with old states disposed leave the tensor count where it was after the first few. */
export function expectFlatTensorCount(optimizer: Optimizer): void {
  const lasso = new Lasso();
  const batch = lasso.toBatch(toyLasso(2, 10, 12, 3, 6));
  const start = tf.memory().numTensors;
  let state = optimizer.init(lasso, batch);
  const counts: number[] = [];
  for (let k = 0; k < 50; k++) {
    const next = optimizer.step(lasso, batch, state, { k, training: false });
    disposeReplacedState(state, next);
    state = next;
    counts.push(tf.memory().numTensors);
  }
  expect(counts[49]).toBe(counts[0]);
  disposeState(state);
  expect(tf.memory().numTensors).toBe(start);
  lasso.disposeBatch(batch);
}

/** init copies x0 (the caller keeps it) and rejects an x0 of the wrong shape. */
export function expectInitCopiesX0(optimizer: Optimizer): void {
  const lasso = new Lasso();
  const batch = lasso.toBatch(toyLasso(2, 5, 6, 2, 7));
  const x0 = tf.fill<tf.Rank.R2>([2, 6], 0.5);
  const state = optimizer.init(lasso, batch, x0);
  expect(Array.from(state.x.dataSync())).toEqual(Array(12).fill(0.5));
  disposeState(state);
  expect(x0.isDisposed).toBe(false);
  const wrong = tf.zeros<tf.Rank.R2>([2, 5]);
  expect(() => optimizer.init(lasso, batch, wrong)).toThrow(/x0 has shape \[2, 5\], but the batch needs \[2, 6\]/);
  tf.dispose([x0, wrong]);
  lasso.disposeBatch(batch);
}
