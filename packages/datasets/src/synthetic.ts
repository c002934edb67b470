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
import { L2oError, UsageError, booleanOption, enumOption, intOption, numberOption, resolveOptions } from '@l2o/core/portable';
import type { Dataset, DatasetContext, DatasetRegistration, DatasetRequest, InstanceSet, OptionFields, Rng } from '@l2o/core/portable';
import { checkRequest } from './request.js';

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

/** The problems the synthetic dataset serves (declared here only). */
export const SYNTHETIC_SERVES: readonly SyntheticProblem[] = ['lasso', 'logistic-l1'];

/** What a user gives: sizes left out come from the preset (for the problem asked for). */
export interface SyntheticOptions {
  preset: SyntheticPreset;
  m: number | undefined;
  n: number | undefined;
  s: number | undefined;
  lambda: number | undefined;
  sharedA: boolean;
}

/** The options of the synthetic dataset (values may also come as text, e.g. m: '20'). */
export const syntheticOptionFields: OptionFields<SyntheticOptions> = {
  preset: enumOption<SyntheticPreset>(
    'paper',
    ['paper', 'toy'],
    "sizes: 'paper' (LASSO 250×500, s 50; logistic-l1 1000×50, s 20) or 'toy' (20×40, s 5; 100×20, s 5)",
  ),
  m: intOption(undefined, 'rows of A (observations)', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  n: intOption(undefined, 'columns of A (coordinates of x)', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  s: intOption(undefined, 'non-zeros of x* (≤ n)', { min: 0, acceptStrings: true, defaultText: 'from preset' }),
  lambda: numberOption(undefined, 'λ of the ℓ1 term (0.1 in both presets)', { min: 0, acceptStrings: true, defaultText: 'from preset' }),
  sharedA: booleanOption(false, 'one matrix A for all instances (false: a fresh A per instance)', { acceptStrings: true }),
};

/** The option names, in declaration order. */
export const SYNTHETIC_OPTIONS = Object.keys(syntheticOptionFields) as readonly (keyof SyntheticOptions)[];

const SYNTHETIC = { kind: 'dataset', id: 'synthetic' } as const;

export interface SyntheticSettings extends SyntheticSize {
  problem: SyntheticProblem;
  preset: SyntheticPreset;
  /** One matrix A for all instances (default false: a fresh A per instance). */
  sharedA: boolean;
}

/** Resolves the options of a synthetic request into sizes, with clear errors. */
export function syntheticSettings(problem: string, options: Record<string, unknown>): SyntheticSettings {
  if (!(SYNTHETIC_SERVES as readonly string[]).includes(problem)) {
    throw new UsageError(`Dataset 'synthetic' does not serve problem '${problem}'.`, `It serves: ${SYNTHETIC_SERVES.join(', ')}.`);
  }
  const o = resolveOptions(SYNTHETIC, syntheticOptionFields, options);
  const base = SYNTHETIC_PRESETS[problem as SyntheticProblem][o.preset];
  const [m, n, s] = [o.m ?? base.m, o.n ?? base.n, o.s ?? base.s];
  if (s > n) {
    const from = o.s === undefined ? ` (from preset ${o.preset})` : '';
    throw new UsageError(`Dataset synthetic: s = ${s}${from} non-zeros exceed n = ${n} coordinates.`, 'Choose s ≤ n.');
  }
  return { problem: problem as SyntheticProblem, preset: o.preset, m, n, s, lambda: o.lambda ?? base.lambda, sharedA: o.sharedA };
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
  resolveOptions(SYNTHETIC, syntheticOptionFields, createOptions);
  const serves = SYNTHETIC_SERVES;
  const dataset: Dataset = {
    id: 'synthetic',
    serves,
    fixed: false,
    async instances(request: DatasetRequest, _ctx: DatasetContext): Promise<InstanceSet> {
      checkRequest(dataset, request);
      const options = { ...createOptions, ...request.options };
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
  return dataset;
}

/** The registration: id, serves and options declared once, above. */
export const syntheticRegistration: DatasetRegistration = {
  id: 'synthetic',
  description: 'random LASSO (A N(0,1) unit columns, s-sparse x*, b = Ax*) and logistic (b = 1[Ax* ≥ 0]) instances',
  serves: SYNTHETIC_SERVES,
  options: syntheticOptionFields,
  create: (o) => createSyntheticDataset(o),
};
