import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/trainer.js';
import { intOption, type OptionFields } from '../options/fields.js';
import { LIMITS } from './limits.js';

/** The test settings: how many test instances, in batches of how many, for how many iterations. */
export interface TestSettings {
  count: number;
  batchSize: number;
  iterations: number;
}

/** Their fields (every scale sets all three; a spec's scale override may set any), bounded as in limits.ts. */
export const TEST_FIELDS: OptionFields<Partial<TestSettings>> = {
  count: intOption(undefined, 'Test instances.', { min: 1, max: LIMITS.instances.max }),
  batchSize: intOption(undefined, 'Test instances per evaluation batch.', { min: 1, max: LIMITS.instances.max }),
  iterations: intOption(undefined, 'Iterations of every optimizer on the test set.', { min: 1, max: LIMITS.iterations.max }),
};

export interface Scale {
  name: string;
  /** Preset passed to the datasets that generate instances (synthetic). */
  datasetPreset: 'paper' | 'toy';
  training: Partial<TrainOptions>;
  test: TestSettings;
  reference: { maxIterations: number; tolerance: number };
}

/** Builds a scale so that the table below reads one scale a line; every reference solve stops at the papers' 1e-6, or 5,000 iterations unless given. */
function scale(
  name: string,
  datasetPreset: Scale['datasetPreset'],
  [count, batchSize, iterations]: [count: number, batchSize: number, iterations: number],
  training: Partial<TrainOptions>,
  maxIterations = 5000,
): Scale {
  return { name, datasetPreset, training, test: { count, batchSize, iterations }, reference: { maxIterations, tolerance: 1e-6 } };
}

/**
 * How big a run is. `paper` is the papers' protocol (meant for a GPU); `cpu` finishes on a
 * laptop in well under an hour; `toy` is the small LASSO of the papers' appendix protocol;
 * `quick` is the README's first run; `smoke` is for tests. Each: name, dataset preset, test set
 * [count, batchSize, iterations], training.
 */
export const SCALES: Record<string, Scale> = {
  // The papers keep the checkpoint of the best validation: one whose loss is not finite (a model
  // that blows up on some of the 1,024 instances early in training) is not it, and training goes on.
  paper: scale('paper', 'paper', [1024, 64, 1000], { onNonFiniteValidation: 'not-best' }),
  cpu: scale('cpu', 'paper', [128, 64, 300], { globalSteps: 60, batchSize: 16, validateEvery: 20, validationSize: 64 }),
  toy: scale('toy', 'toy', [1024, 256, 100], { globalSteps: 500, batchSize: 64, iterations: 100, unroll: 20, validateEvery: 20, validationSize: 1024 }),
  quick: scale('quick', 'toy', [256, 256, 100], { globalSteps: 60, batchSize: 32, iterations: 100, unroll: 20, validateEvery: 20, validationSize: 128 }),
  smoke: scale('smoke', 'toy', [16, 16, 30], { globalSteps: 4, batchSize: 8, iterations: 20, unroll: 10, validateEvery: 2, validationSize: 16 }, 2000),
};

export function getScale(name: string): Scale {
  const scale = SCALES[name];
  if (!scale) throw new UsageError(`Unknown scale '${name}'.`, `Use one of: ${Object.keys(SCALES).join(', ')}.`);
  return scale;
}
