import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/trainer.js';
import { intOption, type OptionFields } from '../options/fields.js';

/**
 * How big a run is. `paper` is the papers' protocol (meant for a GPU); `cpu` finishes on a
 * laptop in well under an hour; `toy` is the small LASSO of the papers' appendix protocol;
 * `quick` is the README's first run; `smoke` is for tests.
 */
/** The test settings: how many test instances, in batches of how many, for how many iterations. */
export interface TestSettings {
  count: number;
  batchSize: number;
  iterations: number;
}

/** Their fields (every scale sets all three; a spec's scale override may set any). */
export const TEST_FIELDS: OptionFields<Partial<TestSettings>> = {
  count: intOption(undefined, 'Test instances.', { min: 1 }),
  batchSize: intOption(undefined, 'Test instances per evaluation batch.', { min: 1 }),
  iterations: intOption(undefined, 'Iterations of every optimizer on the test set.', { min: 1 }),
};

export interface Scale {
  name: string;
  /** Preset passed to the datasets that generate instances (synthetic). */
  datasetPreset: 'paper' | 'toy';
  training: Partial<TrainOptions>;
  test: TestSettings;
  reference: { maxIterations: number; tolerance: number };
}

export const SCALES: Record<string, Scale> = {
  paper: {
    name: 'paper',
    datasetPreset: 'paper',
    training: {},
    test: { count: 1024, batchSize: 64, iterations: 1000 },
    reference: { maxIterations: 5000, tolerance: 1e-6 },
  },
  cpu: {
    name: 'cpu',
    datasetPreset: 'paper',
    training: { globalSteps: 60, batchSize: 16, validateEvery: 20, validationSize: 64 },
    test: { count: 128, batchSize: 64, iterations: 300 },
    reference: { maxIterations: 5000, tolerance: 1e-6 },
  },
  toy: {
    name: 'toy',
    datasetPreset: 'toy',
    training: { globalSteps: 500, batchSize: 64, iterations: 100, unroll: 20, validateEvery: 20, validationSize: 1024 },
    test: { count: 1024, batchSize: 256, iterations: 100 },
    reference: { maxIterations: 5000, tolerance: 1e-6 },
  },
  quick: {
    name: 'quick',
    datasetPreset: 'toy',
    training: { globalSteps: 60, batchSize: 32, iterations: 100, unroll: 20, validateEvery: 20, validationSize: 128 },
    test: { count: 256, batchSize: 256, iterations: 100 },
    reference: { maxIterations: 5000, tolerance: 1e-6 },
  },
  smoke: {
    name: 'smoke',
    datasetPreset: 'toy',
    training: { globalSteps: 4, batchSize: 8, iterations: 20, unroll: 10, validateEvery: 2, validationSize: 16 },
    test: { count: 16, batchSize: 16, iterations: 30 },
    reference: { maxIterations: 2000, tolerance: 1e-6 },
  },
};

export function getScale(name: string): Scale {
  const scale = SCALES[name];
  if (!scale) throw new UsageError(`Unknown scale '${name}'.`, `Use one of: ${Object.keys(SCALES).join(', ')}.`);
  return scale;
}
