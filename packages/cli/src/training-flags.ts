import { Flags } from '@oclif/core';
import { LIMITS, TRAINING_FIELDS, UsageError, type TrainOptions } from '@l2o/core';
import { checkParallelism, integerIn } from './numeric-flags.js';
import { workersFlag } from './flags.js';

// Descriptions come from the training settings' fields in core (declared once).
const about = (key: keyof TrainOptions, extra = '') => `${TRAINING_FIELDS[key].describe}${extra}`;

/** The meta-training flags `l2o run` and `l2o train` share, defined once. */
export const trainingFlags = {
  steps: Flags.integer({
    ...integerIn({ ...LIMITS.iterations, why: 'the loss history is written as one text' }),
    summary: about('globalSteps', ' Overrides the scale.'),
  }),
  'batch-size': Flags.integer({ ...integerIn(LIMITS.instances), summary: about('batchSize', ' Overrides the scale.') }),
  'micro-batch': Flags.integer({ ...integerIn({ ...LIMITS.instances, min: 0 }), summary: about('microBatch', ' Give one to override the automatic choice.') }),
  ...workersFlag({ description: about('workers', ' Needs at least as many micro-batches.') }),
};

/** The flags only `l2o train` has: the rest of the protocol. */
export const protocolFlags = {
  iterations: Flags.integer({ ...integerIn(LIMITS.iterations), summary: about('iterations') }),
  unroll: Flags.integer({ ...integerIn(LIMITS.iterations), summary: about('unroll') }),
  'learning-rate': Flags.string({ summary: about('learningRate') }),
  'validate-every': Flags.integer({ ...integerIn({ min: 1 }), summary: about('validateEvery') }),
  'on-nan': Flags.option({ options: ['stop', 'skip'] as const, summary: about('onNonFinite') })(),
  'skip-rate-factor': Flags.string({ summary: about('skipRateFactor') }),
  'validation-size': Flags.integer({ min: 1, summary: about('validationSize', ' Overrides the scale (the papers: 1024).') }),
  'clip-norm': Flags.string({ summary: about('clipNorm') }),
  'lr-schedule': Flags.option({ options: ['constant', 'cosine'] as const, summary: about('lrSchedule') })(),
  'rollback-factor': Flags.string({ summary: about('rollbackFactor') }),
};

type TrainingFlagValues = { steps?: number; 'batch-size'?: number; 'micro-batch'?: number; workers?: number };
type ProtocolFlagValues = Partial<{
  iterations: number;
  unroll: number;
  'learning-rate': string;
  'validate-every': number;
  'on-nan': 'stop' | 'skip';
  'skip-rate-factor': string;
  'validation-size': number;
  'clip-norm': string;
  'lr-schedule': 'constant' | 'cosine';
  'rollback-factor': string;
}>;

/** A number flag that is 0 (off) or more, e.g. --clip-norm. */
function offOrPositive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new UsageError(`--${flag} must be a number ≥ 0 (0: off), got ${text}.`);
  return value;
}

/** The one mapping from the shared training flags to training options: only what was given, each value checked. */
export function trainingOptionsFrom(flags: TrainingFlagValues): Partial<TrainOptions> {
  // Each integer was checked against its limit when the flags were parsed.
  checkParallelism('--workers', flags.workers, 'worker threads');
  return given({ globalSteps: flags.steps, batchSize: flags['batch-size'], microBatch: flags['micro-batch'], workers: flags.workers });
}

/**
 * The one mapping from the protocol flags only `l2o train` has to training options (`l2o run`'s
 * --iterations is its test's, so it never comes here): only what was given, each value checked.
 */
export function protocolOptionsFrom(flags: ProtocolFlagValues): Partial<TrainOptions> {
  const learningRate = flags['learning-rate'] === undefined ? undefined : Number(flags['learning-rate']);
  if (learningRate !== undefined && !(Number.isFinite(learningRate) && learningRate > 0))
    throw new UsageError(`--learning-rate must be a positive number, got ${flags['learning-rate']}.`);
  return given({
    iterations: flags.iterations,
    unroll: flags.unroll,
    validateEvery: flags['validate-every'],
    learningRate,
    onNonFinite: flags['on-nan'],
    // Its range, (0, 1], is checked with the other training settings (checkTrainOptions).
    skipRateFactor: numberFlag('skip-rate-factor', flags['skip-rate-factor']),
    validationSize: flags['validation-size'],
    clipNorm: offOrPositive('clip-norm', flags['clip-norm']),
    lrSchedule: flags['lr-schedule'],
    rollbackFactor: offOrPositive('rollback-factor', flags['rollback-factor']),
  });
}

/** A number flag whose range the training settings check. */
function numberFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${flag} must be a number, got ${text}.`);
  return value;
}

/** The options that were given. */
function given(options: Partial<TrainOptions>): Partial<TrainOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
