/**
 * The largest seeds, iteration counts and instance counts a run accepts, derived once from what
 * holds them: the run store's integer columns, JavaScript's typed arrays and strings, and the
 * engine's heap. Flags, specs and sweeps are checked against them before any work, so a value
 * that cannot be run or stored is refused at once (and by --dry-run) with the largest one accepted.
 */
import { UsageError } from '../errors.js';
import type { TrainOptions } from '../train/trainer.js';

/** The run store keeps seeds in a PostgreSQL `integer` column (runs.seed). */
export const MAX_SEED = 2_147_483_647;

/**
 * The largest single array a run allocates: 2 GiB, half the WASM engine's 4 GiB heap, which holds
 * a batch's per-iteration objectives and their stack at the same time.
 */
export const MAX_ARRAY_BYTES = 2 ** 31;

/** V8's longest string (Node 20, 64-bit). */
const MAX_STRING_CHARS = 2 ** 29 - 24;

/**
 * Characters one iteration of a curve takes at most in its CSV or JSON text: up to three float64
 * values (mean F, mean gap, acceptance) of at most 24 characters each, indented, with separators.
 */
const CHARS_PER_CURVE_POINT = 100;

/**
 * Iterations K of a curve. Its K + 1 points are written as text (CSV, JSON), and a run's JSON
 * output holds the curves of all its optimizers at once: 2^29 characters at 100 a point is
 * 5,368,708 points, so 1,000,000 iterations leave room for five optimizers (more are checked
 * with their number by checkRunSizes).
 */
export const MAX_ITERATIONS = 1_000_000;

/** Instances of a set or a batch: each has its F* as one float64 of a single array. */
export const MAX_INSTANCES = MAX_ARRAY_BYTES / 8;

/** Seeds one sweep expands (a run per seed and grid point, each planned and listed up front). */
export const MAX_SWEEP_SEEDS = 10_000;

/** Each limit with the reason for it, for messages. */
export const LIMITS = {
  seed: { min: 0, max: MAX_SEED, why: 'the run store keeps seeds as 32-bit integers' },
  iterations: { min: 1, max: MAX_ITERATIONS, why: 'the curves of K + 1 points are written as text of at most 2^29 characters' },
  instances: { min: 1, max: MAX_INSTANCES, why: 'F* of every instance is a float64 in one array of at most 2 GiB' },
} as const;

export interface IntLimit {
  min: number;
  max?: number;
  why?: string;
}

/** "an integer from 0 to 2147483647" or "an integer ≥ 1". */
export function integerRange(limit: IntLimit): string {
  return limit.max === undefined ? `an integer ≥ ${limit.min}` : `an integer from ${limit.min} to ${limit.max}`;
}

/**
 * Checks that `value` is a safe integer within the limit (1e20 is refused, not taken as the
 * integer it rounds to); `name` names it in the message, e.g. '--seed' or 'seed'.
 */
export function checkInteger(name: string, value: unknown, limit: IntLimit, given: unknown = value): number {
  const max = limit.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < limit.min || value > max) {
    throw new UsageError(`${name} must be ${integerRange(limit)}${limit.why && limit.max !== undefined ? ` (${limit.why})` : ''}, got ${String(given)}.`);
  }
  return value;
}

/**
 * An integer given as text (a flag): digits only, never rounded, within the limit. Number('1e3')
 * or parseInt('99999999999999999999') would give a number the user did not write.
 */
export function parseIntegerText(name: string, text: string, limit: IntLimit): number {
  const t = text.trim();
  return checkInteger(name, /^[-+]?\d+$/.test(t) ? Number(t) : Number.NaN, limit, text);
}

export const checkSeed = (name: string, seed: unknown): number => checkInteger(name, seed, LIMITS.seed);

/**
 * A batch's objectives at every iteration, (K + 1) × batch float32 values, are stacked into one
 * array on the engine (evaluator): it must stay within MAX_ARRAY_BYTES.
 */
function checkObjectivesFit(iterationsName: string, iterations: number, batchName: string, batch: number): void {
  if ((iterations + 1) * batch * 4 <= MAX_ARRAY_BYTES) return;
  const most = Math.floor(MAX_ARRAY_BYTES / (4 * batch)) - 1;
  throw new UsageError(
    `${iterationsName} ${iterations} with batches of ${batch} (${batchName}) stacks (K + 1) × ${batch} float32 objectives in one array, over its 2 GiB.`,
    `Use at most ${most} iterations with batches of ${batch}, or smaller batches.`,
  );
}

/**
 * Checks a comparison's sizes before any work: its seed and its test settings (checkTrainingSizes,
 * its training settings). Names are the spec's keys, which the CLI's flags set.
 */
export function checkRunSizes(seed: unknown, test: { count: number; batchSize: number; iterations: number }, optimizers = 1): void {
  checkSeed('seed', seed);
  checkInteger('test.count', test.count, LIMITS.instances);
  checkInteger('test.batchSize', test.batchSize, LIMITS.instances);
  checkInteger('test.iterations', test.iterations, LIMITS.iterations);
  checkObjectivesFit('test.iterations', test.iterations, 'test.batchSize', Math.min(test.batchSize, test.count));
  if ((test.iterations + 1) * optimizers * CHARS_PER_CURVE_POINT > MAX_STRING_CHARS) {
    const most = Math.floor(MAX_STRING_CHARS / (optimizers * CHARS_PER_CURVE_POINT)) - 1;
    throw new UsageError(
      `test.iterations ${test.iterations} for ${optimizers} optimizers: their curves would not fit one text of at most 2^29 characters (the run's JSON).`,
      `Use at most ${most} iterations with ${optimizers} optimizers, or compare fewer at once.`,
    );
  }
}

/** The training settings' sizes (their fields check kinds and minimums; these, the maximums). */
export function checkTrainingSizes(t: TrainOptions): void {
  checkSeed('training.seed', t.seed);
  // Each global step adds a loss to the training history, written as one JSON text like a curve.
  checkInteger('training.globalSteps', t.globalSteps, { ...LIMITS.iterations, why: 'the loss history is written as one text of at most 2^29 characters' });
  checkInteger('training.batchSize', t.batchSize, LIMITS.instances);
  checkInteger('training.validationSize', t.validationSize, LIMITS.instances);
  checkInteger('training.microBatch', t.microBatch, { ...LIMITS.instances, min: 0 });
  checkInteger('training.iterations', t.iterations, LIMITS.iterations);
  checkInteger('training.unroll', t.unroll, LIMITS.iterations);
  checkInteger('training.validationIterations', t.validationIterations, LIMITS.iterations);
  checkInteger('training.validateEvery', t.validateEvery, { min: 1 });
  // Validation evaluates in micro-batches (at most the training batch).
  const micro = t.microBatch > 0 ? Math.min(t.microBatch, t.batchSize) : t.batchSize;
  checkObjectivesFit('training.validationIterations', t.validationIterations, 'training.batchSize', Math.min(micro, t.validationSize));
}
