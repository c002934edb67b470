import { tf } from '../tf.js';
import { throwIfInterrupted } from '../errors.js';
import { evaluationPoint, type Optimizer, type OptimizerState } from '../contracts/optimizer.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';
import { disposeState } from './state.js';
import { rollout } from './rollout.js';

export const GAP_THRESHOLDS = [1e-2, 1e-3, 1e-4] as const;
/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * An objective value that means divergence: not finite, or beyond float32's range (F is computed
 * in float64 from float32 iterates, so a blow-up that overflowed the engine's float32 F before
 * stays finite here).
 */
const blownUp = (f: number) => !Number.isFinite(f) || Math.abs(f) > FLOAT32_MAX;

export interface EvaluateOptions {
  /** Iterations K; the curves have K + 1 points (k = 0 is the starting point). */
  iterations: number;
  /** Instances run at once. */
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between iterations with InterruptedError. */
  signal?: AbortSignal;
  /**
   * Where the finished batches are kept as they finish, and read back: an interrupted evaluation
   * continues after its last finished batch (on one thread: evaluateOnWorkers on several does not
   * use it). Batches are independent, so the curve is the uninterrupted one, bit for bit.
   */
  partial?: PartialEvaluationStore;
}

/** An evaluation's first `done` instances (whole batches) of `instances`, as PartialEvaluationStore keeps them. */
export interface PartialEvaluation {
  done: number;
  instances: number;
  /** F of those instances, instance-major [done, K + 1]. */
  F: Float64Array;
  /** A safeguarded optimizer's kept learned steps summed over them, per iteration [K]; else null. */
  accepted: Float64Array | null;
  /** The time they took, over every process that evaluated them. */
  seconds: number;
}

/** Keeps an evaluation's finished batches (see EvaluateOptions.partial); `load` gives nothing when there are none, or none that fit. */
export interface PartialEvaluationStore {
  load(): PartialEvaluation | undefined;
  save(partial: PartialEvaluation): void;
}

/** One optimizer's result on a test set: the curves the papers plot and their summary. */
export interface EvaluationCurve {
  optimizer: string;
  instances: number;
  /** Instances in the gap average: those with a known, non-zero F*. */
  gapInstances: number;
  /** Mean F(x_k) over instances, k = 0..K. */
  meanF: number[];
  /** Mean over instances of (F(x_k) − F*)/F*, k = 0..K (NaN when the set has no F*). */
  meanGap: number[];
  finalGap: number;
  /** First k with meanGap ≤ threshold, or null ("never"), keyed by the threshold as text. */
  iterationsTo: Record<string, number | null>;
  /**
   * The first iteration at which the mean F is not finite or beyond float32's range (the
   * optimizer diverged on some instance), or null.
   */
  divergedAt: number | null;
  /** Instances whose F is not finite, or beyond float32's range, at some iteration (set when there are any). */
  nonFiniteInstances?: number;
  seconds: number;
  /**
   * A safeguarded learned optimizer's acceptance: acceptance[i] is the fraction of instances whose
   * step from iteration i to i + 1 kept the learned step (the rest took the fallback step).
   */
  acceptance?: number[];
  /** Per iteration, the gap's GAP_QUANTILES over the instances with a gap. */
  gapQuantiles?: number[][];
  /** Each instance's own result (see PerInstanceResults). */
  perInstance?: PerInstanceResults;
  /** F(x_k) and F* were computed in float64 (see evaluateOptimizer). */
  float64?: boolean;
  /** The set's gap resolution from its float64 reference (see refineReference64). */
  resolution?: number;
}

export function iterationsToReach(curve: ArrayLike<number>, threshold: number): number | null {
  const k = Array.prototype.findIndex.call(curve, (g: number) => g <= threshold);
  return k < 0 ? null : k;
}

/**
 * What a run's summary says of a curve, computed from the curve alone (the evaluator, and `l2o
 * runs import`, so the stored summary can never disagree with the stored curve).
 */
export function curveMetrics(
  curve: Pick<EvaluationCurve, 'meanF' | 'meanGap'>,
  thresholds: readonly number[] = GAP_THRESHOLDS,
): Pick<EvaluationCurve, 'finalGap' | 'iterationsTo' | 'divergedAt'> & { finalF: number } {
  const diverged = curve.meanF.findIndex(blownUp);
  return {
    finalGap: curve.meanGap.at(-1)!,
    finalF: curve.meanF.at(-1)!,
    iterationsTo: Object.fromEntries(thresholds.map((t) => [String(t), iterationsToReach(curve.meanGap, t)])),
    divergedAt: diverged < 0 ? null : diverged,
  };
}

/** Iterations at which every instance's gap is kept (with the last one), for paired comparisons. */
export const KEPT_ITERATIONS = [0, 10, 20, 50, 100] as const;
/** Quantiles of the gap over instances kept per iteration (the plots' median and bands). */
export const GAP_QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9] as const;
/** An instance diverges when its gap rises more than this factor above its running best … */
export const DIVERGENCE_RISE = 100;
/**
 * … counting gaps below this as this: a rise must reach DIVERGENCE_RISE × DIVERGENCE_FLOOR = 0.1.
 * A converging method ripples near F*: FISTA's gap goes from 2e-8 back up to 1e-6 (a BSDS500
 * instance), and on 69 of 253 BSDS500 instances in 1,000 iterations it rises 100× above a best
 * below 1e-6; above 1e-4, on none. A floor of 1e-8 (before PerInstanceResults.divergenceFloor)
 * counted those ripples as divergence.
 */
export const DIVERGENCE_FLOOR = 1e-3;
/** Iterates read back per transfer on the float64 path (a read-back per iteration stalls a GPU). */
const READBACK_EVERY = 25;

/**
 * What a summary says of the instances beside the mean, from the curve alone like curveMetrics: a
 * mean that a few instances blew up says nothing of the rest. The median final gap, and how many
 * of the instances with a gap diverged; nothing for a curve without per-instance results.
 */
export function instanceMetrics(curve: Pick<EvaluationCurve, 'gapInstances' | 'gapQuantiles' | 'perInstance'>): {
  medianFinalGap?: number;
  divergedInstances?: number;
  gapInstances?: number;
} {
  if (!curve.perInstance || !curve.gapQuantiles?.length) return {};
  // JSON writes a non-finite gap as null: a median that diverged.
  const median = curve.gapQuantiles.at(-1)![GAP_QUANTILES.indexOf(0.5)] ?? Number.POSITIVE_INFINITY;
  return { medianFinalGap: median, divergedInstances: curve.perInstance.diverged.length, gapInstances: curve.gapInstances };
}

/**
 * Each test instance's own result, so that two optimizers can be compared instance by instance
 * (the same instances, in the same order, for every optimizer of a run). Non-finite values (a
 * diverged instance) are written as null in JSON.
 */
export interface PerInstanceResults {
  /** The iterations kept: KEPT_ITERATIONS up to K, and K. */
  at: number[];
  /**
   * gaps[j][i]: instance i's relative gap at iteration at[j]; +Infinity when F(x_k) is not finite,
   * NaN when the instance has no gap (F* = 0). JSON writes both as null: see `perInstanceGaps`.
   */
  gaps: (number | null)[][];
  /** Per threshold (as text): instance i's first iteration with a gap at or below it, or null. */
  iterationsTo: Record<string, (number | null)[]>;
  /** Instances that ended above their starting gap, or rose more than DIVERGENCE_RISE× above their running best (see `diverges`). */
  diverged: number[];
  /** The DIVERGENCE_FLOOR `diverged` was counted with; absent: 1e-8, the rule that counted ripples near F*. */
  divergenceFloor?: number;
}

/**
 * The instances that diverged under the current rule (DIVERGENCE_FLOOR), from results counted under
 * any: the rule before divergenceFloor was recorded (floor 1e-8) counted every instance this one does,
 * and ripples near F* besides. So an empty list stays empty, and a list whose every instance diverges
 * on its kept gaps alone (not finite, ending above its start, or a rise between kept iterations) is
 * the same list. Otherwise null: deciding needs the whole trajectory (evaluate again).
 */
export function divergedUnderCurrentRule(results: PerInstanceResults): number[] | null {
  if (results.divergenceFloor === DIVERGENCE_FLOOR || results.diverged.length === 0) return results.diverged;
  if (results.divergenceFloor !== undefined) return null;
  const gaps = perInstanceGaps(results);
  // A rise on the kept gaps is one on the whole trajectory: its running best is at most the kept one.
  return results.diverged.every((i) => diverges(gaps.map((row) => row[i]!))) ? results.diverged : null;
}

/**
 * The per-instance gaps as numbers, however they were read (JSON writes NaN and ±Infinity as
 * null): an instance whose starting gap is missing has no gap (NaN throughout); any other missing
 * gap is +Infinity (F was not finite: it diverged).
 */
export function perInstanceGaps(results: Pick<PerInstanceResults, 'gaps'>): number[][] {
  const start = results.gaps[0] ?? [];
  const hasGap = start.map((g) => g !== null && !Number.isNaN(g));
  return results.gaps.map((row) => row.map((g, i) => (!hasGap[i] ? Number.NaN : g === null || Number.isNaN(g) ? Number.POSITIVE_INFINITY : g)));
}

/** What a batch of iterates is worth: F per instance (k-major [iterations, size]). */
type ObjectiveReader = (
  problem: Problem,
  batch: ProblemBatch,
  part: InstanceSet,
) => {
  onState: (s: OptimizerState, k: number) => Promise<void>;
  /** F of iteration k, instance i of the batch, once `finish` has run. */
  finish: () => Promise<(k: number, i: number) => number>;
  dispose: () => void;
};

/** F on the engine in float32: one read-back per batch. */
const engineObjectives: ObjectiveReader = (problem, batch) => {
  const objectives: tf.Tensor1D[] = [];
  return {
    onState: (s) => {
      objectives.push(tf.tidy(() => problem.objective(batch, evaluationPoint(s))));
      return Promise.resolve();
    },
    async finish() {
      const stacked = tf.stack(objectives) as tf.Tensor2D; // [K+1, size]
      const values = await stacked.data();
      stacked.dispose();
      return (k, i) => values[k * batch.size + i]!;
    },
    dispose: () => tf.dispose(objectives),
  };
};

/** F in float64 on the host from the float32 iterates, read back every READBACK_EVERY iterations. */
const hostObjectives: ObjectiveReader = (problem, batch, part) => {
  const host = problem.float64!;
  const n = part.n;
  const pending: tf.Tensor2D[] = [];
  const values: number[][] = []; // [k][i]
  const flush = async () => {
    if (pending.length === 0) return;
    const stacked = tf.stack(pending) as tf.Tensor3D; // [c, size, n]
    tf.dispose(pending.splice(0));
    const xs = await stacked.data();
    stacked.dispose();
    const count = xs.length / (batch.size * n);
    for (let c = 0; c < count; c++) {
      const row: number[] = [];
      for (let i = 0; i < batch.size; i++) {
        const offset = (c * batch.size + i) * n;
        row.push(host.objective(part, i, xs.subarray(offset, offset + n)));
      }
      values.push(row);
    }
  };
  return {
    async onState(s) {
      pending.push(tf.clone(evaluationPoint(s)));
      if (pending.length >= READBACK_EVERY) await flush();
    },
    async finish() {
      await flush();
      return (k, i) => values[k]![i]!;
    },
    dispose: () => tf.dispose(pending),
  };
};

/** The p-quantile of sorted values (linear interpolation between order statistics). */
function quantileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // On an order statistic, that value (0 · ∞ would be NaN when the next one diverged).
  return h === lo || a === b ? a : a + (h - lo) * (b - a);
}

/**
 * An instance's gap trajectory diverges: it is not finite somewhere, ends above its start, or rises
 * DIVERGENCE_RISE× above its running best, gaps below DIVERGENCE_FLOOR counted as the floor (a blow-up,
 * not the ripples of a method converging).
 */
export function diverges(gaps: ArrayLike<number>): boolean {
  const last = gaps[gaps.length - 1]!;
  if (!Number.isFinite(last) || last > gaps[0]!) return true;
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < gaps.length; k++) {
    const g = gaps[k]!;
    if (!Number.isFinite(g)) return true;
    const floored = Math.max(g, DIVERGENCE_FLOOR);
    if (floored > DIVERGENCE_RISE * best) return true;
    best = Math.min(best, floored);
  }
  return false;
}

/**
 * Runs an optimizer for K iterations on every instance of a test set (in batches): per iteration
 * the mean F, the mean relative gap and the gap's quantiles over instances, and per instance its
 * gaps at KEPT_ITERATIONS, its iterations to each threshold and whether it diverged. When the
 * problem has a float64 form and the set a float64 F*, F(x_k) is computed in float64 on the host
 * from the float32 iterates (gaps resolved to ~1e-15, not float32's ~1e-7); else on the engine.
 * (On Node, `evaluateOnWorkers` splits the batches over worker threads, with the same numbers.)
 */
export async function evaluateOptimizer(problem: Problem, optimizer: Optimizer, set: InstanceSet, options: EvaluateOptions): Promise<EvaluationCurve> {
  const float64 = evaluatesInFloat64(problem, set);
  const started = performance.now();
  const block = await evaluateBatches(problem, optimizer, set, {
    ...options,
    float64,
    onBatch: (done) => options.onProgress?.(done, set.count),
  });
  return evaluationCurve(optimizer.id, set, options.iterations, block, float64, block.secondsBefore + (performance.now() - started) / 1000);
}

/** Whether F(x_k) is computed in float64 on the host (see evaluateOptimizer). */
export function evaluatesInFloat64(problem: Problem, set: InstanceSet): boolean {
  return problem.float64 !== undefined && set.fStar !== undefined;
}

/** What an optimizer's batches on a set give, before they are summarized. */
export interface EvaluatedBatches {
  /** F per instance and iteration, instance-major: [count, K + 1]. */
  F: Float64Array;
  /** A safeguarded optimizer's kept learned steps, summed over the instances per iteration [K]; else null. */
  accepted: Float64Array | null;
  /** The time of the batches an interrupted evaluation had finished (options.partial), 0 when it started afresh. */
  secondsBefore: number;
}

/** The kept part of an evaluation, when it fits this one: whole batches of this set and K. */
function fittingPartial(partial: PartialEvaluation | undefined, count: number, K: number, batchSize: number): PartialEvaluation | undefined {
  if (!partial) return undefined;
  const { done, F, accepted } = partial;
  const whole = partial.instances === count && done > 0 && done <= count && (done % batchSize === 0 || done === count);
  return whole && F.length === done * (K + 1) && (accepted === null || accepted.length === K) ? partial : undefined;
}

/**
 * The batch loop of evaluateOptimizer: batches of `batchSize` from the set's first instance. A
 * worker runs it on a block of whole batches, so every batch is the one a single thread runs.
 */
export async function evaluateBatches(
  problem: Problem,
  optimizer: Optimizer,
  set: InstanceSet,
  options: Pick<EvaluateOptions, 'iterations' | 'batchSize' | 'signal' | 'partial'> & { float64: boolean; onBatch?: (done: number) => void },
): Promise<EvaluatedBatches> {
  const K = options.iterations;
  const sumAccepted = new Float64Array(K);
  let safeguarded = false;
  const reader = options.float64 ? hostObjectives : engineObjectives;
  const F = new Float64Array(set.count * (K + 1));
  const started = performance.now();
  // Continue after the batches an interrupted evaluation finished.
  const earlier = fittingPartial(options.partial?.load(), set.count, K, options.batchSize);
  if (earlier) {
    F.set(earlier.F);
    if (earlier.accepted) sumAccepted.set(earlier.accepted);
    safeguarded = earlier.accepted !== null;
    options.onBatch?.(earlier.done);
  }
  const secondsBefore = earlier?.seconds ?? 0;
  for (let start = earlier?.done ?? 0; start < set.count; start += options.batchSize) {
    throwIfInterrupted(options.signal);
    const part = sliceInstances(set, start, options.batchSize);
    const batch = problem.toBatch(part);
    const objectives = reader(problem, batch, part);
    const accepted: tf.Tensor1D[] = [];
    try {
      const { state } = await rollout(problem, optimizer, batch, {
        iterations: K,
        signal: options.signal,
        onState: async (s, k) => {
          await objectives.onState(s, k);
          // A safeguarded optimizer's state says where the learned step was kept.
          if (s.accepted instanceof tf.Tensor) accepted.push(tf.clone(s.accepted as tf.Tensor1D));
        },
      });
      disposeState(state);
      if (accepted.length === K) {
        safeguarded = true;
        const kept = tf.stack(accepted) as tf.Tensor2D; // [K, size]
        const flags = await kept.data();
        kept.dispose();
        for (let k = 0; k < K; k++) for (let i = 0; i < part.count; i++) sumAccepted[k]! += flags[k * part.count + i]!;
      }
      const value = await objectives.finish();
      for (let i = 0; i < part.count; i++) for (let k = 0; k <= K; k++) F[(start + i) * (K + 1) + k] = value(k, i);
    } finally {
      objectives.dispose();
      tf.dispose(accepted);
      problem.disposeBatch(batch);
    }
    const done = Math.min(set.count, start + options.batchSize);
    options.partial?.save({
      done,
      instances: set.count,
      F: F.subarray(0, done * (K + 1)),
      accepted: safeguarded ? sumAccepted : null,
      seconds: secondsBefore + (performance.now() - started) / 1000,
    });
    options.onBatch?.(done);
  }
  return { F, accepted: safeguarded ? sumAccepted : null, secondsBefore };
}

/** The curve of an optimizer's evaluated batches on the whole set. */
export function evaluationCurve(optimizer: string, set: InstanceSet, K: number, batches: EvaluatedBatches, float64: boolean, seconds: number): EvaluationCurve {
  return {
    optimizer,
    ...summarizeObjectives(batches.F, set, K),
    seconds,
    ...(batches.accepted ? { acceptance: Array.from(batches.accepted, (v) => v / set.count) } : {}),
    ...(float64 ? { float64: true, resolution: referenceResolution(set) } : {}),
  };
}

/** The resolution a float64 reference recorded for the set (see refineReference64), if any. */
function referenceResolution(set: InstanceSet): number | undefined {
  const reference = set.meta?.reference as { float64?: { resolution?: number } } | undefined;
  return reference?.float64?.resolution;
}

/** Everything an EvaluationCurve says of F per instance and iteration ([count, K + 1], instance-major). */
export function summarizeObjectives(
  F: Float64Array,
  set: Pick<InstanceSet, 'count' | 'fStar'>,
  K: number,
): Omit<EvaluationCurve, 'optimizer' | 'seconds' | 'acceptance' | 'float64' | 'resolution'> {
  const count = set.count;
  const sumF = new Float64Array(K + 1);
  const sumGap = new Float64Array(K + 1);
  const gapOf = (i: number, k: number): number => {
    const fStar = set.fStar?.[i];
    // An instance with F* = 0 (e.g. a flat image patch, b = 0) has no relative gap.
    if (fStar === undefined || fStar === 0) return Number.NaN;
    const f = F[i * (K + 1) + k]!;
    return Number.isFinite(f) ? (f - fStar) / Math.abs(fStar) : Number.POSITIVE_INFINITY;
  };
  const withGap: number[] = [];
  for (let i = 0; i < count; i++) if (set.fStar?.[i] !== undefined && set.fStar[i] !== 0) withGap.push(i);
  for (let i = 0; i < count; i++) for (let k = 0; k <= K; k++) sumF[k]! += F[i * (K + 1) + k]!;
  for (const i of withGap) for (let k = 0; k <= K; k++) sumGap[k]! += gapOf(i, k);
  const meanF = Array.from(sumF, (v) => v / count);
  const meanGap = withGap.length > 0 ? Array.from(sumGap, (v) => v / withGap.length) : meanF.map(() => Number.NaN);
  const { finalGap, iterationsTo: meanIterationsTo, divergedAt } = curveMetrics({ meanF, meanGap });
  // Which instances made the mean not finite: a validation that blew up on a few of 1,024 says so.
  let nonFinite = 0;
  for (let i = 0; i < count; i++) {
    const row = F.subarray(i * (K + 1), (i + 1) * (K + 1));
    if (row.some(blownUp)) nonFinite++;
  }
  const base = {
    instances: count,
    gapInstances: withGap.length,
    meanF,
    meanGap,
    finalGap,
    iterationsTo: meanIterationsTo,
    divergedAt,
    ...(nonFinite > 0 ? { nonFiniteInstances: nonFinite } : {}),
  };
  if (withGap.length === 0) return base;

  // Quantiles per iteration over the instances with a gap (a non-finite gap ranks above every finite one).
  const column = new Float64Array(withGap.length);
  const gapQuantiles: number[][] = [];
  for (let k = 0; k <= K; k++) {
    withGap.forEach((i, r) => {
      const g = gapOf(i, k);
      column[r] = Number.isFinite(g) ? g : Number.POSITIVE_INFINITY;
    });
    column.sort();
    gapQuantiles.push(GAP_QUANTILES.map((p) => quantileOfSorted(column, p)));
  }
  const at = [...new Set([...KEPT_ITERATIONS.filter((k) => k < K), K])];
  const trajectory = new Float64Array(K + 1);
  const iterationsTo: Record<string, (number | null)[]> = Object.fromEntries(GAP_THRESHOLDS.map((t) => [String(t), [] as (number | null)[]]));
  const diverged: number[] = [];
  const hasGap = new Set(withGap);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k <= K; k++) trajectory[k] = gapOf(i, k);
    for (const t of GAP_THRESHOLDS) iterationsTo[String(t)]!.push(hasGap.has(i) ? iterationsToReach(trajectory, t) : null);
    if (hasGap.has(i) && diverges(trajectory)) diverged.push(i);
  }
  const perInstance: PerInstanceResults = {
    at,
    gaps: at.map((k) => Array.from({ length: count }, (_, i) => gapOf(i, k))),
    iterationsTo,
    diverged,
    divergenceFloor: DIVERGENCE_FLOOR,
  };
  return { ...base, gapQuantiles, perInstance };
}
