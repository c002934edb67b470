import { tf } from '../tf.js';
import { throwIfInterrupted } from '../errors.js';
import { evaluationPoint, type Optimizer } from '../contracts/optimizer.js';
import type { Problem } from '../contracts/problem.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';
import { disposeState } from './state.js';
import { rollout } from './rollout.js';

export const GAP_THRESHOLDS = [1e-2, 1e-3, 1e-4] as const;

export interface EvaluateOptions {
  /** Iterations K; the curves have K + 1 points (k = 0 is the starting point). */
  iterations: number;
  /** Instances run at once. */
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between iterations with InterruptedError. */
  signal?: AbortSignal;
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
   * The first iteration at which the mean F is not finite (the optimizer diverged on some
   * instance), or null. The curves hold NaN or Infinity from there on.
   */
  divergedAt: number | null;
  seconds: number;
  /**
   * A safeguarded learned optimizer's acceptance: acceptance[i] is the fraction of instances whose
   * step from iteration i to i + 1 kept the learned step (the rest took the fallback step).
   */
  acceptance?: number[];
}

export function iterationsToReach(curve: readonly number[], threshold: number): number | null {
  const k = curve.findIndex((g) => g <= threshold);
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
  const diverged = curve.meanF.findIndex((v) => !Number.isFinite(v));
  return {
    finalGap: curve.meanGap.at(-1)!,
    finalF: curve.meanF.at(-1)!,
    iterationsTo: Object.fromEntries(thresholds.map((t) => [String(t), iterationsToReach(curve.meanGap, t)])),
    divergedAt: diverged < 0 ? null : diverged,
  };
}

/**
 * Runs an optimizer for K iterations on every instance of a test set (in batches) and
 * averages F and the relative gap per iteration. Objectives stay on the engine until a batch
 * ends: one read-back per batch, none per iteration.
 */
export async function evaluateOptimizer(problem: Problem, optimizer: Optimizer, set: InstanceSet, options: EvaluateOptions): Promise<EvaluationCurve> {
  const K = options.iterations;
  const sumF = new Float64Array(K + 1);
  const sumGap = new Float64Array(K + 1);
  const sumAccepted = new Float64Array(K);
  let safeguarded = false;
  let gapInstances = 0;
  const started = performance.now();
  for (let start = 0; start < set.count; start += options.batchSize) {
    throwIfInterrupted(options.signal);
    const part = sliceInstances(set, start, options.batchSize);
    const batch = problem.toBatch(part);
    const objectives: tf.Tensor1D[] = [];
    const accepted: tf.Tensor1D[] = [];
    try {
      const { state } = await rollout(problem, optimizer, batch, {
        iterations: K,
        signal: options.signal,
        onState: (s) => {
          objectives.push(tf.tidy(() => problem.objective(batch, evaluationPoint(s))));
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
      const stacked = tf.stack(objectives) as tf.Tensor2D; // [K+1, size]
      const values = await stacked.data();
      stacked.dispose();
      for (let k = 0; k <= K; k++) {
        for (let i = 0; i < part.count; i++) {
          const F = values[k * part.count + i]!;
          sumF[k]! += F;
          // Without F* (a validation set) only F is averaged. An instance with F* = 0 (e.g. a flat
          // image patch, b = 0) has no relative gap: it is left out of the gap average.
          const fStar = part.fStar?.[i];
          if (fStar !== undefined && fStar !== 0) {
            sumGap[k]! += (F - fStar) / Math.abs(fStar);
            if (k === 0) gapInstances++;
          }
        }
      }
    } finally {
      tf.dispose(objectives);
      tf.dispose(accepted);
      problem.disposeBatch(batch);
    }
    options.onProgress?.(Math.min(set.count, start + options.batchSize), set.count);
  }
  const meanF = Array.from(sumF, (v) => v / set.count);
  const meanGap = gapInstances > 0 ? Array.from(sumGap, (v) => v / gapInstances) : meanF.map(() => Number.NaN);
  const { finalGap, iterationsTo, divergedAt } = curveMetrics({ meanF, meanGap });
  return {
    optimizer: optimizer.id,
    instances: set.count,
    gapInstances,
    meanF,
    meanGap,
    finalGap,
    iterationsTo,
    divergedAt,
    seconds: (performance.now() - started) / 1000,
    ...(safeguarded ? { acceptance: Array.from(sumAccepted, (v) => v / set.count) } : {}),
  };
}
