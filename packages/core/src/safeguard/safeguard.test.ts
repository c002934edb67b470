import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { evaluationPoint, type OptimizerState } from '../contracts/optimizer.js';
import type { ProblemBatch } from '../contracts/problem.js';
import { rollout } from '../evaluate/rollout.js';
import { disposeState } from '../evaluate/state.js';
import { trainLearnedOptimizer } from '../train/trainer.js';
import { TINY_TRAINING, TinyLearned, tinyIsta, tinyLasso, tinyLassoSet, tinyTrainInstances, tinyValidationSet } from '../test-utils/tiny.js';
import { fixedPointResidual, SafeguardedOptimizer, withSafeguardOptions } from './safeguard.js';
import type { ModelRegistration } from '../contracts/plugin.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

const read = (t: tf.Tensor) => Array.from(t.dataSync());

/** F and the merit per instance along a rollout, the safeguard's accepted flags, and the last KKT residual. */
async function trace(optimizer: SafeguardedOptimizer | TinyLearned | typeof tinyIsta, batch: ProblemBatch, iterations: number) {
  const F: number[][] = [];
  const merit: number[][] = [];
  const accepted: number[][] = [];
  const L: number[][] = [];
  const { state } = await rollout(tinyLasso, optimizer, batch, {
    iterations,
    onState: (s: OptimizerState) => {
      const p = evaluationPoint(s);
      F.push(read(tf.tidy(() => tinyLasso.objective(batch, p))));
      merit.push(read(tf.tidy(() => fixedPointResidual(tinyLasso, batch, p))));
      if (s.accepted) accepted.push(read(s.accepted as tf.Tensor));
      if (s.safeguardL) L.push(read(s.safeguardL as tf.Tensor));
    },
  });
  const kkt = read(tf.tidy(() => tinyLasso.kktResidual(batch, evaluationPoint(state))));
  disposeState(state);
  return { F, merit, accepted, L, kkt };
}

/** F* of each instance: ISTA run to a tiny KKT residual. */
async function fStar(batch: ProblemBatch): Promise<number[]> {
  const run = await trace(tinyIsta, batch, 20000);
  expect(Math.max(...run.kkt)).toBeLessThan(1e-5);
  return run.F.at(-1)!;
}

const set = tinyLassoSet(6, 5, 8, 2, new Rng(7));
let batch: ProblemBatch;
beforeAll(() => {
  batch = tinyLasso.toBatch(set);
});
afterAll(() => tinyLasso.disposeBatch(batch));

/** A tiny learned optimizer whose step and momentum are near their maximum (2/L and 2): it overshoots. */
function overshooting(): TinyLearned {
  const model = new TinyLearned({ seed: 3 });
  const w = model.getWeights();
  model.setWeights({ ...w, b2: { shape: [2], data: [8, 8] } });
  return model;
}

describe('safeguard', () => {
  it('makes a diverging learned optimizer converge to F*, to the KKT tolerance', async () => {
    const plain = overshooting();
    const unguarded = await trace(plain, batch, 300);
    // The premise: without the safeguard it does not converge.
    expect(unguarded.F.at(-1)!.some((f, i) => !Number.isFinite(f) || f > unguarded.F[0]![i]!)).toBe(true);
    const optimum = await fStar(batch);
    for (const fallback of ['ista', 'fista'] as const) {
      const guarded = new SafeguardedOptimizer(overshooting(), { safeguard: fallback, safeguardDecay: 0.9, safeguardStep: 'lipschitz' });
      const run = await trace(guarded, batch, 3000);
      expect(Math.max(...run.kkt), fallback).toBeLessThan(1e-4);
      run.F.at(-1)!.forEach((f, i) => expect(Math.abs(f - optimum[i]!) / Math.abs(optimum[i]!), fallback).toBeLessThan(1e-4));
      guarded.dispose();
    }
    plain.dispose();
  }, 120_000);

  it('with the ISTA fallback: a fallback step never increases the merit, a kept step is within μ_k = θ^k μ_0', async () => {
    const theta = 0.8;
    const guarded = new SafeguardedOptimizer(overshooting(), { safeguard: 'ista', safeguardDecay: theta, safeguardStep: 'lipschitz' });
    const run = await trace(guarded, batch, 200);
    let fallbacks = 0;
    let kept = 0;
    for (let k = 1; k < run.merit.length; k++) {
      for (let i = 0; i < set.count; i++) {
        const before = run.merit[k - 1]![i]!;
        const after = run.merit[k]![i]!;
        if (run.accepted[k - 1]![i] === 0) {
          fallbacks++;
          expect(after).toBeLessThanOrEqual(before * (1 + 1e-5) + 1e-7);
        } else {
          kept++;
          expect(after).toBeLessThanOrEqual(run.merit[0]![i]! * theta ** (k - 1) * (1 + 1e-5));
        }
      }
    }
    // Both kinds of step happen here.
    expect(fallbacks).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    guarded.dispose();
  }, 60_000);

  it('with backtracking: F never increases at a fallback step, L_k never decreases nor passes the problem L, and an L 100× too large costs little', async () => {
    // The problem's L 100 times too large: the fixed fallback's steps are 100 times too short.
    const loose = { ...batch, L: tf.mul<tf.Tensor1D>(batch.L, 100) };
    const optimum = await fStar(batch);
    const gap = (F: number[]) => Math.max(...F.map((f, i) => (f - optimum[i]!) / Math.abs(optimum[i]!)));
    const runs: Record<string, Awaited<ReturnType<typeof trace>>> = {};
    for (const safeguardStep of ['lipschitz', 'backtracking'] as const) {
      const guarded = new SafeguardedOptimizer(overshooting(), { safeguard: 'ista', safeguardDecay: 0.8, safeguardStep });
      runs[safeguardStep] = await trace(guarded, loose, 300);
      guarded.dispose();
    }
    const run = runs.backtracking!;
    const problemL = read(loose.L);
    let fallbacks = 0;
    for (let k = 1; k < run.F.length; k++) {
      for (let i = 0; i < set.count; i++) {
        expect(run.L[k]![i]!).toBeGreaterThanOrEqual(run.L[k - 1]![i]!);
        expect(run.L[k]![i]!).toBeLessThanOrEqual(problemL[i]!);
        if (run.accepted[k - 1]![i] === 0) {
          fallbacks++;
          expect(run.F[k]![i]!).toBeLessThanOrEqual(run.F[k - 1]![i]! + 1e-6 * Math.abs(run.F[k - 1]![i]!));
        }
      }
    }
    expect(fallbacks).toBeGreaterThan(0);
    expect(gap(run.F.at(-1)!)).toBeLessThan(1e-4);
    expect(gap(runs.lipschitz!.F.at(-1)!)).toBeGreaterThan(100 * gap(run.F.at(-1)!));
    loose.L.dispose();
  }, 120_000);

  it('keeps nearly every step of a learned optimizer trained on these instances, and its curve early on', async () => {
    const model = new TinyLearned({ seed: 1 });
    await trainLearnedOptimizer(
      { problem: tinyLasso, model, trainInstances: tinyTrainInstances, validationSet: tinyValidationSet() },
      { ...TINY_TRAINING, iterations: 20, unroll: 5, validationIterations: 20, globalSteps: 100, seed: 1 },
    );
    const plain = await trace(model, batch, 20);
    const guarded = new SafeguardedOptimizer(model, { safeguard: 'ista', safeguardDecay: 0.9, safeguardStep: 'lipschitz' });
    const run = await trace(guarded, batch, 20);
    const kept = run.accepted.flat();
    const rate = kept.reduce((a, b) => a + b, 0) / kept.length;
    expect(rate).toBeGreaterThanOrEqual(0.95);
    // Until the first fallback of an instance its iterates are the model's own.
    for (let i = 0; i < set.count; i++) {
      const first = run.accepted.findIndex((a) => a[i] === 0);
      const until = first < 0 ? 20 : first;
      for (let k = 0; k <= until; k++) expect(run.F[k]![i]).toBeCloseTo(plain.F[k]![i]!, 6);
    }
    model.dispose();
  }, 120_000);

  it('is an option of every model, trained and saved as the plain model', () => {
    const registration: ModelRegistration = {
      id: 'tiny',
      description: 'tiny',
      defaultConfig: {},
      create: (options = {}) => new TinyLearned(options),
    } as unknown as ModelRegistration;
    const wrapped = withSafeguardOptions(registration);
    expect(Object.keys(wrapped.options ?? {})).toEqual(expect.arrayContaining(['safeguard', 'safeguardDecay', 'safeguardStep']));
    const plain = wrapped.create({ hidden: 3 });
    expect(plain).toBeInstanceOf(TinyLearned);
    const guarded = wrapped.create({ hidden: 3, safeguard: 'fista' });
    expect(guarded).toBeInstanceOf(SafeguardedOptimizer);
    expect(guarded.config).toEqual(plain.config);
    expect(guarded.options).toMatchObject({ hidden: 3, safeguard: 'fista', safeguardDecay: 0.9, safeguardStep: 'lipschitz' });
    expect(() => wrapped.create({ safeguard: 'adam' })).toThrow(/safeguard/);
    plain.dispose();
    guarded.dispose();
  });
});
