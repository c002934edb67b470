import { Flags } from '@oclif/core';
import { UsageError, type TrainOptions } from '@l2o/core';
import { positiveInt } from './base-command.js';

/** The meta-training flags `l2o run` and `l2o train` share, defined once. */
export const trainingFlags = {
  steps: Flags.integer({ summary: 'Meta-training global steps (overrides the scale).' }),
  'batch-size': Flags.integer({ summary: 'Meta-training batch size (overrides the scale).' }),
  'micro-batch': Flags.integer({ summary: 'Instances per forward/backward pass, gradients accumulated (when the batch does not fit in memory).' }),
  workers: Flags.integer({
    summary: "Worker threads sharing each batch's micro-batches (data parallel, one core each; needs at least as many micro-batches).",
  }),
};

/** The flags only `l2o train` has: the rest of the protocol. */
export const protocolFlags = {
  iterations: Flags.integer({ summary: 'Iterations K per training batch.' }),
  unroll: Flags.integer({ summary: 'Iterations per truncated-BPTT segment.' }),
  'learning-rate': Flags.string({ summary: 'Adam learning rate (1e-2 LASSO, 3e-3 logistic in the papers).' }),
  'validate-every': Flags.integer({ summary: 'Validate every N global steps.' }),
  'on-nan': Flags.option({
    options: ['stop', 'skip'] as const,
    summary: 'On a non-finite loss: stop, or skip the step (weights restored) and halve the learning rate.',
  })(),
};

type TrainingFlagValues = { steps?: number; 'batch-size'?: number; 'micro-batch'?: number; workers?: number } & Partial<{
  iterations: number;
  unroll: number;
  'learning-rate': string;
  'validate-every': number;
  'on-nan': 'stop' | 'skip';
}>;

/** The one mapping from flags to training options: only what was given, each value checked. */
export function trainingOptionsFrom(flags: TrainingFlagValues): Partial<TrainOptions> {
  const learningRate = flags['learning-rate'] === undefined ? undefined : Number(flags['learning-rate']);
  if (learningRate !== undefined && !(learningRate > 0)) throw new UsageError(`--learning-rate must be a positive number, got ${flags['learning-rate']}.`);
  const given: Partial<TrainOptions> = {
    globalSteps: positiveInt('steps', flags.steps),
    batchSize: positiveInt('batch-size', flags['batch-size']),
    microBatch: positiveInt('micro-batch', flags['micro-batch']),
    workers: positiveInt('workers', flags.workers),
    iterations: positiveInt('iterations', flags.iterations),
    unroll: positiveInt('unroll', flags.unroll),
    validateEvery: positiveInt('validate-every', flags['validate-every']),
    learningRate,
    onNonFinite: flags['on-nan'],
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<TrainOptions>;
}
