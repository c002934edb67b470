// A comparison's units of work: the keyed jobs a sweep schedules, and training and evaluating one optimizer.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import type { InstanceSet } from '../../contracts/instances.js';
import { InterruptedError, L2oError, stopSignalOf, throwIfInterrupted } from '../../errors.js';
import type { Platform } from '../../container.js';
import type { LearnedOptimizer } from '../../contracts/learned-optimizer.js';
import { instanceMetrics, type EvaluationCurve } from '../../evaluate/evaluator.js';
import { evaluateOnWorkers, type WorkerOptions } from '../../evaluate/parallel/workers.js';
import { partialEvaluationFile, partialEvaluationPath } from '../../evaluate/partial-file.js';
import { engineLabel } from '../../engine/extensions.js';
import type { TrainProgress } from '../../train/trainer.js';
import { checkpointOf, loadCheckpointInto, readCachedCheckpoint, readCheckpoint } from '../../train/checkpoint.js';
import { configHash } from '../../util/stable-json.js';
import { curveCsv, type RunFiles } from '../../store/run-store.js';
import { loadOrBuildTestSet } from '../test-set.js';
import { saveTrainedModel, trainModelOn } from '../train-model.js';
import type { OptimizerSummary } from '../summary.js';
import { builtOf, disposeModels, prepareComparison, trainingLogOf, type ComparisonSpec, type PreparedComparison } from './prepare.js';

export type ComparisonEvent =
  | { kind: 'test-set'; done: number; total: number; cached: boolean }
  | { kind: 'train'; optimizer: string; progress: TrainProgress }
  | { kind: 'train-reused'; optimizer: string; checkpoint: string }
  | { kind: 'evaluate'; optimizer: string; done: number; total: number }
  | { kind: 'evaluated'; optimizer: string; curve: EvaluationCurve };

/** A comparison's units of work, keyed by their content: equal work has equal keys (sweeps share work by them). */
export interface ComparisonJobs {
  /** The run's id and directory name: the experiment, scale, seed and a hash of the whole comparison. */
  runId: string;
  optimizers: {
    label: string;
    /** A learned optimizer without a given checkpoint: its training, keyed like its cached checkpoint. */
    train?: { key: string; checkpoint: string };
    /** Its evaluation on the comparison's test set. */
    evaluate: { key: string };
  }[];
}

/** The part of a comparison one optimizer contributes to its run. */
export interface EvaluatedOptimizer {
  summary: OptimizerSummary;
  curve: EvaluationCurve;
  /** Its files in the run directory (metrics, checkpoint, training log). */
  files: RunFiles;
  /** A learned optimizer's: SHA-256 of the weights it was evaluated with (see weightsChecksum). */
  weightsSha256?: string;
}

/** What training one optimizer of a comparison did. */
export interface TrainedOptimizer {
  label: string;
  /** The cached checkpoint of its best weights. */
  checkpoint: string;
  /** Whether it was trained now (false: an identical checkpoint was cached). */
  trained: boolean;
  /** The global step a resumed training continued after (0: it started from scratch). */
  resumedAfter: number;
  seconds?: number;
}

/** The key of an optimizer's evaluation: its test set and options, its label, options and weights (a training's key, or its given checkpoint). */
function evaluationKey(prepared: PreparedComparison, b: PreparedComparison['built'][number]): string {
  const trainKey = b.cached ? path.basename(b.cached, '.json') : undefined;
  const hash = configHash({
    testRequest: prepared.testRequest,
    test: prepared.testOpts,
    label: b.label,
    optimizer: { id: b.ref.id, options: { ...b.optimizer.options } },
    weights: trainKey ?? b.ref.checkpoint ?? null,
    ...(b.problem ? { problem: { ...b.problem.options } } : {}),
  });
  return `${b.label}-${hash.slice(0, 16)}`;
}

function jobsOf(prepared: PreparedComparison, spec: ComparisonSpec): ComparisonJobs {
  const slug = `${spec.name}-${prepared.plan.scale}-seed${spec.seed}`;
  return {
    runId: `${slug}-${configHash({ ...spec, retrain: undefined }).slice(0, 10)}`,
    optimizers: prepared.built.map((b) => {
      const trainKey = b.cached ? path.basename(b.cached, '.json') : undefined;
      return {
        label: b.label,
        ...(b.cached && trainKey ? { train: { key: trainKey, checkpoint: b.cached } } : {}),
        evaluate: { key: evaluationKey(prepared, b) },
      };
    }),
  };
}

/** The jobs of a comparison (checked as runComparison checks it), for a sweep to schedule. */
export function comparisonJobs(platform: Platform, spec: ComparisonSpec): ComparisonJobs {
  const prepared = prepareComparison(platform, spec);
  disposeModels(prepared);
  return jobsOf(prepared, spec);
}

/**
 * Makes sure a learned optimizer's checkpoint is cached: reuses an identical one, continues an
 * interrupted training from its resume file, or trains. A baseline or a given checkpoint needs nothing.
 */
export async function trainOne(
  platform: Platform,
  prepared: PreparedComparison,
  b: PreparedComparison['built'][number],
  onEvent: (e: ComparisonEvent) => void,
  signal?: AbortSignal,
): Promise<TrainedOptimizer | null> {
  const { problem, trainDataset, trainDatasetOptions, testRequest, trainOpts } = prepared;
  const { cached, label } = b;
  if (!b.learned || b.ref.checkpoint || !cached) return null;
  const model = b.optimizer as LearnedOptimizer;
  // A cached checkpoint that cannot be read (truncated, edited) is a cache miss, with a warning.
  const existing = prepared.retrain ? null : readCachedCheckpoint(cached, (line) => platform.logger.warn(line));
  if (existing) {
    onEvent({ kind: 'train-reused', optimizer: label, checkpoint: cached });
    return { label, checkpoint: cached, trained: false, resumedAfter: 0, seconds: existing.meta?.trainingSeconds as number | undefined };
  }
  // An interrupted training leaves its state beside the checkpoint it would have become; the same command continues it.
  const resumeFile = `${cached}.resume`;
  const resumeFrom = existsSync(resumeFile) && !prepared.retrain ? resumeFile : undefined;
  const resumedAfter = resumeFrom ? (readCheckpoint(resumeFrom).training?.nextStep ?? 0) : 0;
  const result = await trainModelOn(
    platform,
    { problem, model, dataset: trainDataset, datasetOptions: trainDatasetOptions, training: trainOpts, resumeFile, resumeFrom },
    (progress) => onEvent({ kind: 'train', optimizer: label, progress }),
    signal,
  );
  if (result.interrupted) {
    throw new InterruptedError(
      stopSignalOf(signal!),
      `Interrupted by ${stopSignalOf(signal!)} while training '${label}' (${result.completedSteps} of ${trainOpts.globalSteps} global steps done); no run was written.`,
      'Its training state is saved: run the same command again to continue it.',
    );
  }
  writeFileAtomic(
    trainingLogOf(cached),
    JSON.stringify(
      {
        history: result.history,
        validation: result.validation,
        seconds: result.seconds,
        resumedAfter,
        microBatch: result.microBatch,
        rollbacks: result.rollbacks,
        sessions: result.sessions,
      },
      null,
      1,
    ),
  );
  saveTrainedModel(model, result, cached, { problem: testRequest.problem, trainDataset: trainDataset.id, training: trainOpts });
  rmSync(resumeFile, { force: true });
  return { label, checkpoint: cached, trained: true, resumedAfter, seconds: result.seconds };
}

/** What a run holds of one optimizer besides its curve: its files (checkpoint, training log) and the summary's facts about its weights. */
interface OptimizerWeights {
  files: RunFiles;
  trainingSeconds?: number;
  parameters?: number;
  /** SHA-256 of the weights it is evaluated with (a learned optimizer's; see weightsChecksum). */
  weightsSha256?: string;
}

/** Loads a learned optimizer's weights (the checkpoint trainOne cached, or its given one) and lists the files its run keeps of them. */
function loadWeights(platform: Platform, b: PreparedComparison['built'][number]): OptimizerWeights {
  const { ref, label, optimizer, learned, cached } = b;
  if (!learned) return { files: {} };
  const files: RunFiles = {};
  let trainingSeconds: number | undefined;
  const model = optimizer as LearnedOptimizer;
  if (!ref.checkpoint && cached) {
    const checkpoint = readCachedCheckpoint(cached, (line) => platform.logger.warn(line));
    if (!checkpoint) throw new L2oError(`'${label}' has no trained checkpoint at ${cached}.`, 'Train it first (its training job failed or has not run).');
    // Its file name is a hash of the config it was trained with: another config inside means an edited file.
    loadCheckpointInto(model, checkpoint, {
      file: cached,
      hint: 'It is a cached training whose config was edited: delete it to train again (or pass --retrain to l2o run or l2o experiment run).',
    });
    trainingSeconds = checkpoint.meta?.trainingSeconds as number | undefined;
    if (existsSync(trainingLogOf(cached))) files[`training/${label}.json`] = readFileSync(trainingLogOf(cached), 'utf8');
  }
  const saved = checkpointOf(model, { meta: { trainingSeconds } });
  files[`checkpoints/${label}.json`] = JSON.stringify(saved);
  return { files, trainingSeconds, parameters: model.parameterCount(), weightsSha256: saved.weightsSha256 };
}

/** The optimizer's part of its run from its curve: the summary and the metrics files, beside its weights' files. */
function evaluatedOf(b: PreparedComparison['built'][number], curve: EvaluationCurve, weights: OptimizerWeights): EvaluatedOptimizer {
  const { ref, label, optimizer, learned } = b;
  const files: RunFiles = { ...weights.files };
  files[`metrics/${label}.csv`] = curveCsv(curve);
  files[`metrics/${label}.json`] = JSON.stringify(curve, null, 1);
  const summary: OptimizerSummary = {
    label,
    id: ref.id,
    kind: learned ? 'learned' : 'baseline',
    options: { ...optimizer.options },
    ...(b.ref.problemOptions ? { problemOptions: { ...b.ref.problemOptions } } : {}),
    finalGap: curve.finalGap,
    finalF: curve.meanF.at(-1)!,
    iterationsTo: curve.iterationsTo,
    divergedAt: curve.divergedAt,
    ...instanceMetrics(curve),
    parameters: weights.parameters,
    trainingSeconds: weights.trainingSeconds,
    evaluationSeconds: curve.seconds,
    ...(curve.acceptance ? { acceptance: curve.acceptance.reduce((a, b) => a + b, 0) / curve.acceptance.length } : {}),
    ...(b.pretrained ? { pretrained: b.pretrained } : {}),
  };
  return { summary, curve, files, ...(weights.weightsSha256 ? { weightsSha256: weights.weightsSha256 } : {}) };
}

/** Evaluates one optimizer on the test set; a learned one with the weights trainOne cached (or its given checkpoint). */
export async function evaluateOne(
  platform: Platform,
  prepared: PreparedComparison,
  testSet: InstanceSet,
  b: PreparedComparison['built'][number],
  onEvent: (e: ComparisonEvent) => void,
  signal?: AbortSignal,
  parallel: WorkerOptions = {},
): Promise<EvaluatedOptimizer> {
  const { problem, testOpts } = prepared;
  const weights = loadWeights(platform, b);
  throwIfInterrupted(signal);
  // On one thread, its finished batches are kept in the cache as they finish: the same command,
  // interrupted, continues after them (on several, each thread's block is one piece of work).
  const partial =
    (parallel.workers ?? 1) <= 1
      ? partialEvaluationFile(
          partialEvaluationPath(platform.datasetContext.cacheDir, evaluationKey(prepared, b)),
          {
            weights: weights.weightsSha256 ?? null,
            engine: engineLabel(platform.engine.chosen),
            commit: platform.settings.gitCommit ?? null,
            instances: testSet.count,
            iterations: testOpts.iterations,
            batchSize: testOpts.batchSize,
          },
          (line) => platform.logger.warn(line),
        )
      : undefined;
  let curve: EvaluationCurve;
  try {
    curve = await evaluateOnWorkers(b.problem ?? problem, b.optimizer, testSet, {
      iterations: testOpts.iterations,
      batchSize: testOpts.batchSize,
      onProgress: (done, total) => onEvent({ kind: 'evaluate', optimizer: b.label, done, total }),
      signal,
      ...(partial ? { partial } : {}),
      ...parallel,
    });
  } catch (e) {
    const kept = e instanceof InterruptedError ? partial?.load()?.done : undefined;
    if (!(e instanceof InterruptedError) || !kept) throw e;
    throw new InterruptedError(
      e.signal,
      `Interrupted by ${e.signal} while evaluating '${b.label}' (${kept} of ${testSet.count} test instances done); no run was written.`,
      'Its finished batches are kept: run the same command again to continue it.',
    );
  }
  partial?.remove();
  curve.optimizer = b.label;
  onEvent({ kind: 'evaluated', optimizer: b.label, curve });
  return evaluatedOf(b, curve, weights);
}

export async function testSetOf(
  platform: Platform,
  prepared: PreparedComparison,
  onEvent: (e: ComparisonEvent) => void,
  signal?: AbortSignal,
  parallel: WorkerOptions = {},
): Promise<InstanceSet> {
  const { problem, reference, testDataset, testRequest, testOpts } = prepared;
  const testSet = await loadOrBuildTestSet(
    testDataset,
    problem,
    reference,
    testRequest,
    platform.datasetContext,
    testOpts.batchSize,
    (done, total) => onEvent({ kind: 'test-set', done, total, cached: false }),
    signal,
    parallel,
  );
  onEvent({ kind: 'test-set', done: testSet.set.count, total: testSet.set.count, cached: testSet.cached });
  return testSet.set;
}

/** Trains (or reuses) one learned optimizer of a comparison: a sweep's training job. */
export async function trainComparisonOptimizer(
  platform: Platform,
  spec: ComparisonSpec,
  label: string,
  onEvent: (e: ComparisonEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<TrainedOptimizer | null> {
  const prepared = prepareComparison(platform, spec);
  const b = builtOf(prepared, label);
  disposeModels(prepared, b);
  try {
    return await trainOne(platform, prepared, b, onEvent, signal);
  } finally {
    disposeModels(prepared);
  }
}

/** Evaluates one optimizer of a comparison on its test set (a learned one must be trained): a sweep's evaluation job. */
export async function evaluateComparisonOptimizer(
  platform: Platform,
  spec: ComparisonSpec,
  label: string,
  onEvent: (e: ComparisonEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<EvaluatedOptimizer> {
  const prepared = prepareComparison(platform, spec);
  const b = builtOf(prepared, label);
  disposeModels(prepared, b);
  try {
    const testSet = await testSetOf(platform, prepared, onEvent, signal);
    return await evaluateOne(platform, prepared, testSet, b, onEvent, signal);
  } finally {
    disposeModels(prepared);
  }
}

/**
 * An evaluation job's result from what was kept of it (its summary's evaluation and its curve, e.g.
 * in a campaign's state folder), with the files evaluateOne gives, without evaluating again; null
 * when a learned optimizer's weights are no longer those it was evaluated with (trained again).
 */
export function evaluatedFromKept(
  platform: Platform,
  spec: ComparisonSpec,
  label: string,
  kept: { curve: EvaluationCurve; weightsSha256?: string },
): EvaluatedOptimizer | null {
  const prepared = prepareComparison(platform, spec);
  const b = builtOf(prepared, label);
  disposeModels(prepared, b);
  try {
    const weights = loadWeights(platform, b);
    if (weights.weightsSha256 !== kept.weightsSha256) return null;
    return evaluatedOf(b, { ...kept.curve, optimizer: label }, weights);
  } finally {
    disposeModels(prepared);
  }
}
