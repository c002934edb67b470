/**
 * The synthetic dataset: random instances of LASSO and of ℓ1-regularised logistic regression,
 * generated on the host in float64 and stored in float32, so that a seed gives bit-identical
 * instances on every engine.
 *
 * Order of the draws from `request.rng` (fixed; changing it changes every instance):
 *   if sharedA: the entries of A, row-major (m·n normals);
 *   then for each instance i = 0, 1, …, count−1:
 *     unless sharedA: the entries of A_i, row-major (m·n normals);
 *     the support of x*_i: rng.sample(n, s) (s uniform draws, partial Fisher–Yates);
 *     the values of x*_i at that support, in the order the support was drawn (s normals).
 * LASSO: each column of A is divided by its ℓ2 norm (computed in float64 from the draws) before
 * it is rounded to float32; b = A x* is computed in float64 from the stored float32 A and x*.
 * Logistic: A is N(0,1) as drawn; b = 1[A x* ≥ 0], computed the same way.
 */
import { L2oError, UsageError } from '@l2o/core';
import type { Dataset, DatasetContext, DatasetRequest, InstanceSet, Rng } from '@l2o/core';
import { booleanOption, checkServes, intOption, lambdaOption, mergeOptions } from './options.js';

export type SyntheticProblem = 'lasso' | 'logistic-l1';
export type SyntheticPreset = 'paper' | 'toy';

export interface SyntheticSize {
  m: number;
  n: number;
  s: number;
  lambda: number;
}

/** Sizes of the papers ('paper') and a small one for quick runs ('toy'). */
export const SYNTHETIC_PRESETS: Readonly<Record<SyntheticProblem, Readonly<Record<SyntheticPreset, SyntheticSize>>>> = {
  lasso: {
    paper: { m: 250, n: 500, s: 50, lambda: 0.1 },
    toy: { m: 20, n: 40, s: 5, lambda: 0.1 },
  },
  'logistic-l1': {
    paper: { m: 1000, n: 50, s: 20, lambda: 0.1 },
    toy: { m: 100, n: 20, s: 5, lambda: 0.1 },
  },
};

export const SYNTHETIC_OPTIONS = ['preset', 'm', 'n', 's', 'lambda', 'sharedA'] as const;

export interface SyntheticSettings extends SyntheticSize {
  problem: SyntheticProblem;
  preset: SyntheticPreset;
  /** One matrix A for all instances (default false: a fresh A per instance). */
  sharedA: boolean;
}

/** Resolves the options of a synthetic request into sizes, with clear errors. */
export function syntheticSettings(problem: string, options: Record<string, unknown>): SyntheticSettings {
  if (problem !== 'lasso' && problem !== 'logistic-l1') {
    throw new UsageError(`Dataset synthetic does not serve problem '${problem}'.`, 'It serves: lasso, logistic-l1.');
  }
  const preset = (options.preset ?? 'paper') as SyntheticPreset;
  if (preset !== 'paper' && preset !== 'toy') {
    throw new UsageError(`Dataset synthetic: unknown preset '${String(options.preset)}'.`, 'Use preset paper or toy.');
  }
  const base = SYNTHETIC_PRESETS[problem][preset];
  const m = intOption('synthetic', options, 'm', base.m, 1);
  const n = intOption('synthetic', options, 'n', base.n, 1);
  const s = intOption('synthetic', options, 's', base.s, 0);
  if (s > n) {
    const from = options.s === undefined ? ` (from preset ${preset})` : '';
    throw new UsageError(`Dataset synthetic: s = ${s}${from} non-zeros exceed n = ${n} coordinates.`, 'Choose s ≤ n.');
  }
  const lambda = lambdaOption('synthetic', options, base.lambda);
  const sharedA = booleanOption('synthetic', options, 'sharedA', false);
  return { problem, preset, m, n, s, lambda, sharedA };
}

/** Draws `count` synthetic instances from `rng` (see the order at the top of this file). */
export function generateSynthetic(settings: SyntheticSettings, count: number, rng: Rng): InstanceSet {
  const { problem, m, n, s, sharedA } = settings;
  const mn = m * n;
  const matrices = sharedA ? 1 : count;
  if (matrices * mn > 2 ** 30) {
    throw new L2oError(
      `Dataset synthetic: ${count} instances of ${m}×${n} need ${((matrices * mn * 4) / 2 ** 30).toFixed(1)} GiB for A.`,
      'Ask for fewer instances per request, or pass sharedA: true.',
    );
  }
  const rngState = rng.getState();
  const A = new Float32Array(matrices * mn);
  const b = new Float32Array(count * m);
  const xTrue = new Float32Array(count * n);
  const draws = new Float64Array(mn);
  const normalise = problem === 'lasso';

  const drawMatrix = (offset: number) => {
    for (let k = 0; k < mn; k++) draws[k] = rng.normal();
    if (normalise) {
      for (let j = 0; j < n; j++) {
        let sq = 0;
        for (let i = 0; i < m; i++) sq += draws[i * n + j]! ** 2;
        const scale = sq > 0 ? 1 / Math.sqrt(sq) : 1;
        for (let i = 0; i < m; i++) draws[i * n + j]! *= scale;
      }
    }
    A.set(draws, offset);
  };

  if (sharedA) drawMatrix(0);
  for (let c = 0; c < count; c++) {
    const offset = sharedA ? 0 : c * mn;
    if (!sharedA) drawMatrix(offset);
    const support = rng.sample(n, s);
    for (const j of support) xTrue[c * n + j] = rng.normal();
    for (let i = 0; i < m; i++) {
      let z = 0;
      for (const j of support) z += A[offset + i * n + j]! * xTrue[c * n + j]!;
      b[c * m + i] = problem === 'lasso' ? z : z >= 0 ? 1 : 0;
    }
  }
  return {
    problem,
    count,
    m,
    n,
    lambda: settings.lambda,
    sharedA,
    A,
    b,
    xTrue,
    meta: { dataset: 'synthetic', ...settings, count, rngState },
  };
}

/** The synthetic dataset (a generator: `fixed: false`). */
export function createSyntheticDataset(createOptions: Record<string, unknown> = {}): Dataset {
  mergeOptions('synthetic', SYNTHETIC_OPTIONS, createOptions, undefined);
  const serves = ['lasso', 'logistic-l1'] as const;
  return {
    id: 'synthetic',
    serves,
    fixed: false,
    async instances(request: DatasetRequest, _ctx: DatasetContext): Promise<InstanceSet> {
      checkServes('synthetic', serves, request);
      const options = mergeOptions('synthetic', SYNTHETIC_OPTIONS, createOptions, request.options);
      return generateSynthetic(syntheticSettings(request.problem, options), request.count, request.rng);
    },
    async describe() {
      return {
        id: 'synthetic',
        serves,
        description: 'generated: LASSO (A N(0,1) with unit columns, s-sparse x*, b = Ax*) and logistic-l1 (b = 1[Ax* ≥ 0]); presets paper and toy',
        needsFiles: false,
        present: true,
      };
    },
  };
}
