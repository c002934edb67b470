/**
 * The meta-training settings, declared once: their defaults (the papers' protocol, SPEC section 4),
 * limits and descriptions. The trainer checks options with them, the experiment spec's JSON schema
 * is made from them, and the CLI's training flags take their descriptions from them.
 */
import { defaultsOf, enumOption, intOption, numberOption, resolveOptions, type OptionFields, type OptionOwner } from '../options/fields.js';
import { UsageError } from '../errors.js';

/** The papers' protocol (SPEC section 4); every number is an option. */
export interface TrainOptions {
  globalSteps: number;
  batchSize: number;
  /** Iterations K per training batch. */
  iterations: number;
  /** Iterations per truncated-BPTT segment. */
  unroll: number;
  learningRate: number;
  validateEvery: number;
  validationSize: number;
  validationIterations: number;
  /** Instances per forward/backward pass; the gradient is accumulated over the batch. 0: whole batch. */
  microBatch: number;
  /** On a non-finite loss or gradient: stop with an error, or skip the step and halve the learning rate. */
  onNonFinite: 'stop' | 'skip';
  seed: number;
  /**
   * Worker threads sharing each global step's micro-batches (data parallel: each owns a fixed
   * shard, the main thread sums their gradients). Unset or 1: everything on this thread. Not in
   * the defaults, so the options of existing checkpoints and cached runs stay the same.
   */
  workers?: number;
  /**
   * Stabilisers beyond the papers' protocol, off when unset (see STABILISERS_OFF): the global L2
   * norm each Adam step's meta-gradient is clipped to, the learning-rate schedule over the global
   * steps, and the factor over the best validation loss that rolls training back to the best state.
   */
  clipNorm?: number;
  lrSchedule?: 'constant' | 'cosine';
  rollbackFactor?: number;
  /**
   * A validation whose loss is not finite (the model blew up on some validation instance while its
   * training steps stayed finite): 'guard' (when unset) takes it for divergence, as onNonFinite
   * says; 'not-best' only never keeps it as the best and trains on, the papers' "keep the checkpoint
   * of the best validation" (a training none of whose validations is finite then fails at its end).
   * Not in the defaults, so the options of existing checkpoints and cached runs stay the same.
   */
  onNonFiniteValidation?: 'guard' | 'not-best';
  /**
   * With onNonFinite 'skip': the factor the learning rate is multiplied by at each skipped step;
   * 0.5 (when unset) halves it, 1 keeps it and only drops the step, as mixed-precision training
   * drops a step whose gradient overflowed. Left out at 0.5, so existing options stay the same.
   */
  skipRateFactor?: number;
}

export const TRAINING_FIELDS: OptionFields<TrainOptions> = {
  globalSteps: intOption(500, 'Meta-training global steps.', { min: 1 }),
  batchSize: intOption(64, 'Problem instances per global step.', { min: 1 }),
  iterations: intOption(100, 'Iterations K per training batch.', { min: 1 }),
  unroll: intOption(20, 'Iterations per truncated-BPTT segment (a divisor of iterations).', { min: 1 }),
  learningRate: numberOption(1e-2, 'Adam learning rate (1e-2 LASSO, 3e-3 logistic in the papers).', { min: 0, exclusiveMin: true }),
  validateEvery: intOption(20, 'Validate (and keep a resumable checkpoint) every N global steps.', { min: 1 }),
  validationSize: intOption(1024, 'Validation instances.', { min: 1 }),
  validationIterations: intOption(100, 'Iterations of the validation rollout.', { min: 1 }),
  microBatch: intOption(
    0,
    "Instances per forward/backward pass, gradients accumulated; 0: the largest that fits the engine's memory (probed on one and two instances before training).",
    { min: 0 },
  ),
  onNonFinite: enumOption('stop', ['stop', 'skip'] as const, 'On a non-finite loss: stop, or skip the step (weights restored) and halve the learning rate.'),
  seed: intOption(0, 'Seed of the model initialisation and the training draws.', { min: 0 }),
  workers: intOption(undefined, "Worker threads sharing each batch's micro-batches (data parallel, one core each).", { min: 1 }),
  clipNorm: numberOption(
    0,
    'Clip the meta-gradient of each Adam step to this global L2 norm (over all weights, after accumulating the micro-batches); 0: off (the papers).',
    { min: 0 },
  ),
  lrSchedule: enumOption(
    'constant',
    ['constant', 'cosine'] as const,
    'Learning rate over the global steps: constant (the papers), or cosine from the rate down to 0.',
  ),
  onNonFiniteValidation: enumOption(
    'guard',
    ['guard', 'not-best'] as const,
    "A validation whose loss is not finite: 'guard' treats it as divergence (onNonFinite); 'not-best' never keeps it as the best and trains on (the papers' protocol).",
  ),
  skipRateFactor: numberOption(
    0.5,
    "With onNonFinite 'skip': the factor the learning rate is multiplied by at each skipped step (0.5 halves it; 1 keeps it, only the step is dropped).",
    { min: 0, exclusiveMin: true, max: 1 },
  ),
  rollbackFactor: numberOption(
    0,
    'When a validation loss exceeds this factor × the best so far (or is not finite), restore the weights and Adam state of the best validation and go on; 0: off (the papers), else at least 1.',
    { min: 0 },
  ),
};

/**
 * Stabilisers beyond the papers' protocol and the value that turns each off (its default), and
 * skipRateFactor at its default (halving). They are left out of the defaults and dropped at that
 * value (see normalizeTraining), so the options of runs without them, and so existing checkpoints
 * and cache keys, stay the same.
 */
export const STABILISERS_OFF = { clipNorm: 0, lrSchedule: 'constant', rollbackFactor: 0, skipRateFactor: 0.5 } as const satisfies Partial<TrainOptions>;

const TRAINING: OptionOwner = { kind: 'training', id: 'settings', label: 'the training settings' };

/**
 * The defaults. `workers` has none, the stabilisers are off and a non-finite validation is guarded:
 * they are left out, so the options of existing checkpoints and cached runs stay the same.
 */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = (() => {
  const {
    workers: _none,
    clipNorm: _clip,
    lrSchedule: _schedule,
    rollbackFactor: _rollback,
    onNonFiniteValidation: _validation,
    skipRateFactor: _skipRate,
    ...defaults
  } = defaultsOf(TRAINING_FIELDS);
  return defaults;
})();

/** Checks complete training options: each value against its field, then what relates two of them. */
export function checkTrainOptions(o: TrainOptions): void {
  resolveOptions(TRAINING, TRAINING_FIELDS, o as unknown as Record<string, unknown>);
  if (o.iterations % o.unroll !== 0) {
    throw new UsageError(`Training iterations (${o.iterations}) must be a multiple of the unroll length (${o.unroll}).`);
  }
  if (o.rollbackFactor !== undefined && o.rollbackFactor > 0 && o.rollbackFactor < 1) {
    // Below 1 even the best validation loss would count as a spike.
    throw new UsageError(
      `Training option rollbackFactor must be 0 (off) or at least 1, got ${o.rollbackFactor}.`,
      'Give a factor such as 2 (--rollback-factor, training.rollbackFactor), or 0 to turn rollback off.',
    );
  }
  checkWorkerCount(o);
}

/**
 * Worker threads each start an engine of their own: several CPU engines share the cores, but a
 * GPU engine has one device to share, so a GPU run takes its parallelism from the device.
 */
export function checkWorkersOnEngine(engine: string, workers: number | undefined): void {
  if ((workers ?? 1) > 1 && engine === 'tensorflow-gpu') {
    throw new UsageError(
      `--workers ${workers} starts ${workers} engines, but tensorflow-gpu has one device to share.`,
      'Drop --workers (training.workers) on the GPU: it already runs the batch in parallel; raise --micro-batch instead.',
    );
  }
}

/** Workers: a positive integer, and no more than the micro-batches of a batch (each worker needs one). */
export function checkWorkerCount(o: Pick<TrainOptions, 'workers' | 'batchSize' | 'microBatch'>): void {
  if (o.workers === undefined) return;
  if (!Number.isInteger(o.workers) || o.workers <= 0) throw new UsageError(`Training option workers must be a positive integer, got ${o.workers}.`);
  if (o.microBatch === 0) {
    // Automatic: at most batchSize / workers instances per micro-batch, so each worker gets one.
    if (o.workers > o.batchSize) {
      throw new UsageError(
        `${o.workers} workers need at least ${o.workers} micro-batches per batch, but a batch of ${o.batchSize} has at most ${o.batchSize}.`,
        `Use at most ${o.batchSize} worker${o.batchSize === 1 ? '' : 's'}, or a batch of at least ${o.workers} (--batch-size, training.batchSize).`,
      );
    }
    return;
  }
  const micro = Math.min(o.microBatch, o.batchSize);
  const parts = Math.ceil(o.batchSize / micro);
  if (o.workers > parts) {
    throw new UsageError(
      `${o.workers} workers need at least ${o.workers} micro-batches per batch, but a batch of ${o.batchSize} with micro-batch ${o.microBatch} has ${parts}.`,
      `Set the micro-batch (--micro-batch, training.microBatch) to at most ${Math.floor(o.batchSize / o.workers)}, leave it unset to choose one, or use at most ${parts} worker${parts === 1 ? '' : 's'}.`,
    );
  }
}
