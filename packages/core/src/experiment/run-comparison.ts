import { existsSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import type { InstanceSet } from '../contracts/instances.js';
import path from 'node:path';
import { InterruptedError, L2oError, stopSignalOf, throwIfInterrupted, UsageError } from '../errors.js';
import { checkOutputPath } from '../io/output-paths.js';
import { TOKENS, type Platform } from '../container.js';
import type { RunRenderer } from '../contracts/run-renderer.js';
import type { RunStore } from '../contracts/run-store.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Problem } from '../contracts/problem.js';
import type { Dataset } from '../contracts/dataset.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { EvaluationCurve } from '../evaluate/evaluator.js';
import { evaluateOnWorkers, type WorkerOptions } from '../evaluate/parallel/workers.js';
import { workerPlatformOf } from '../train/parallel/worker-pool.js';
import { DEFAULT_REFERENCE } from '../evaluate/reference.js';
import type { TrainOptions, TrainProgress } from '../train/trainer.js';
import { checkTrainOptions, checkWorkersOnEngine, DEFAULT_TRAIN_OPTIONS } from '../train/training-options.js';
import { checkpointOf, checkpointProblemWarning, loadCheckpointInto, readCachedCheckpoint, readCheckpoint } from '../train/checkpoint.js';
import { configHash, stableStringify } from '../util/stable-json.js';
import { curveCsv, newRunDirName, writeRunDir, type RunFiles } from '../store/run-store.js';
import { checkServes } from '../contracts/dataset.js';
import { loadOrBuildTestSet, testSetDir, type TestSetRequest } from './test-set.js';
import { getScale } from './scales.js';
import { checkRunSizes, checkTrainingSizes } from './limits.js';
import { datasetOptionsAtScale, normalizeTraining, saveTrainedModel, trainModelOn, type PluginRef } from './train-model.js';
import type { RunSummary, OptimizerSummary, TestDataRecord } from './summary.js';
import { createHash } from 'node:crypto';
import { engineLabel } from '../kernels/wasm-kernel.js';

export interface OptimizerRef extends PluginRef {
  /** Name in tables and plots; defaults to the id. */
  label?: string;
  /** Evaluate this checkpoint instead of training. */
  checkpoint?: string;
  /** What the id must be: a learned optimizer (--model) or a hand-designed one (--optimizer). */
  expect?: 'model' | 'optimizer';
  /**
   * Problem options this hand-designed optimizer is evaluated with, over the comparison's (e.g.
   * { lipschitz: tight }: the same instances and F*, another step-size rule).
   */
  problemOptions?: Record<string, unknown>;
}

export interface ComparisonSpec {
  name: string;
  problem: PluginRef;
  /** Instances the learned optimizers are trained (and validated) on; default: the problem's own. */
  trainDataset?: PluginRef;
  testDataset: PluginRef;
  optimizers: OptimizerRef[];
  scale: string;
  seed: number;
  /** Overrides of the scale's training options. */
  training?: Partial<TrainOptions>;
  test?: Partial<{ count: number; batchSize: number; iterations: number }>;
  /** The solver that gives F*; FISTA by default. */
  reference?: PluginRef & Partial<{ maxIterations: number; tolerance: number }>;
  /** Retrain even when a checkpoint of identical config is cached. */
  retrain?: boolean;
  /** The sweep grid point this comparison is (`target.option` → value): recorded with the run, for grouping. */
  grid?: Record<string, unknown>;
}

export type ComparisonEvent =
  | { kind: 'test-set'; done: number; total: number; cached: boolean }
  | { kind: 'train'; optimizer: string; progress: TrainProgress }
  | { kind: 'train-reused'; optimizer: string; checkpoint: string }
  | { kind: 'evaluate'; optimizer: string; done: number; total: number }
  | { kind: 'evaluated'; optimizer: string; curve: EvaluationCurve };

export interface ComparisonResult {
  runDir: string;
  summary: RunSummary;
  curves: EvaluationCurve[];
  /** Where the run was stored, when the host registered a RunStore. */
  stored?: { id: string; location: string };
}

/** What a comparison will do, known before any long work: printed by `--dry-run`. */
export interface ComparisonPlan {
  name: string;
  scale: string;
  seed: number;
  runsDir: string;
  testSet: { dataset: string; count: number; iterations: number; cached: boolean; reference: string };
  optimizers: {
    label: string;
    kind: 'learned' | 'baseline';
    /** For a learned optimizer: how its weights are obtained. */
    weights?: 'checkpoint' | 'cached' | 'resume' | 'train';
    /** The cached checkpoint (or the given one). */
    checkpoint?: string;
  }[];
  training: TrainOptions;
}

/** A comparison with every id resolved, every option and path checked, and every cache looked up. */
interface PreparedComparison {
  plan: ComparisonPlan;
  problem: Problem;
  reference: Optimizer;
  testDataset: Dataset;
  trainDataset: Dataset;
  trainDatasetOptions: Record<string, unknown>;
  testRequest: TestSetRequest;
  testOpts: { count: number; batchSize: number; iterations: number };
  trainOpts: TrainOptions;
  built: { ref: OptimizerRef; label: string; optimizer: Optimizer; learned: boolean; cached?: string; disposed?: boolean; problem?: Problem }[];
  retrain: boolean;
}

function prepareComparison(platform: Platform, spec: ComparisonSpec): PreparedComparison {
  const { registry, datasetContext: ctx, settings } = platform;
  const scale = getScale(spec.scale);
  checkRunSizes(spec.seed, { ...scale.test, ...spec.test }, spec.optimizers.length);
  const problem = registry.get('problem', spec.problem.id).create(spec.problem.options ?? {});
  const testDataset = registry.get('dataset', spec.testDataset.id).create({});
  const trainRef = spec.trainDataset ?? { id: problem.defaultDataset };
  const trainDataset = registry.get('dataset', trainRef.id).create({});
  checkServes(testDataset, problem.id);
  if (spec.optimizers.length === 0) throw new UsageError('Nothing to run.', 'Give --optimizer or --model (or both).');

  // Build every optimizer and check every input and output before any long work, so a bad id,
  // option, checkpoint or path fails at once.
  checkOutputPath(settings.runsDir, 'dir', 'The runs folder (--runs-dir)');
  checkOutputPath(ctx.cacheDir, 'dir', 'The cache folder (--cache-dir, L2O_CACHE_DIR)');
  const built: PreparedComparison['built'] = spec.optimizers.map((ref) => {
    const reg = registry.getAny(['optimizer', 'model'], ref.id);
    if (ref.expect === 'model' && reg.kind !== 'model') {
      throw new UsageError(`'${ref.id}' is a hand-designed optimizer, not a learned one.`, `Use --optimizer ${ref.id}.`);
    }
    if (ref.expect === 'optimizer' && reg.kind === 'model') {
      throw new UsageError(`'${ref.id}' is a learned optimizer.`, `Use --model ${ref.id}.`);
    }
    const optimizer = reg.create(ref.options ?? {});
    if (ref.checkpoint) {
      if (reg.kind !== 'model') throw new UsageError(`--checkpoint is for a learned optimizer; '${ref.id}' is hand-designed.`);
      const checkpoint = readCheckpoint(ref.checkpoint);
      const warning = checkpointProblemWarning(checkpoint, { id: problem.id, options: { ...problem.options } });
      if (warning) platform.logger.warn(warning);
      loadCheckpointInto(optimizer as LearnedOptimizer, checkpoint, { file: ref.checkpoint });
    }
    if (ref.problemOptions && reg.kind === 'model') {
      throw new UsageError(
        `Problem options per optimizer are for hand-designed ones; '${ref.id}' is learned.`,
        'A learned optimizer is trained and evaluated on the comparison’s problem.',
      );
    }
    // Its own problem: the comparison's options with these over them (checked by the problem).
    const own = ref.problemOptions ? registry.get('problem', spec.problem.id).create({ ...spec.problem.options, ...ref.problemOptions }) : undefined;
    return { ref, label: ref.label ?? ref.id, optimizer, learned: reg.kind === 'model', ...(own ? { problem: own } : {}) };
  });
  const learned = built.some((b) => b.learned);
  if (learned) checkServes(trainDataset, problem.id);
  const labels = spec.optimizers.map((o) => o.label ?? o.id);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new UsageError(`Optimizer '${dup}' is listed twice.`, 'Give each a distinct label.');

  const testOpts = { ...scale.test, ...spec.test };
  const trainOpts: TrainOptions = normalizeTraining({ ...DEFAULT_TRAIN_OPTIONS, ...scale.training, ...spec.training, seed: spec.seed });
  if (learned) {
    checkTrainOptions(trainOpts);
    checkTrainingSizes(trainOpts);
    checkWorkersOnEngine(platform.engine.chosen, trainOpts.workers);
  }
  const referenceRef = spec.reference ?? problem.referenceSolver;
  const reference = registry.get('optimizer', referenceRef.id).create({ ...referenceRef.options });
  const testRequest: TestSetRequest = {
    dataset: { id: testDataset.id, options: datasetOptionsAtScale(spec.testDataset, testDataset, scale.datasetPreset) },
    problem: { id: problem.id, options: { ...problem.options } },
    split: 'test',
    count: testOpts.count,
    seed: spec.seed,
    reference: {
      id: reference.id,
      options: { ...reference.options },
      ...DEFAULT_REFERENCE,
      ...scale.reference,
      ...(spec.reference?.maxIterations !== undefined ? { maxIterations: spec.reference.maxIterations } : {}),
      ...(spec.reference?.tolerance !== undefined ? { tolerance: spec.reference.tolerance } : {}),
    },
  };
  const trainDatasetOptions = datasetOptionsAtScale(trainRef, trainDataset, scale.datasetPreset);
  const plan: ComparisonPlan = {
    name: spec.name,
    scale: scale.name,
    seed: spec.seed,
    runsDir: settings.runsDir,
    testSet: {
      dataset: testDataset.id,
      count: testOpts.count,
      iterations: testOpts.iterations,
      cached: existsSync(testSetDir(testRequest, ctx)),
      reference: reference.id,
    },
    optimizers: [],
    training: trainOpts,
  };
  for (const b of built) {
    if (!b.learned) {
      plan.optimizers.push({ label: b.label, kind: 'baseline' });
      continue;
    }
    if (b.ref.checkpoint) {
      plan.optimizers.push({ label: b.label, kind: 'learned', weights: 'checkpoint', checkpoint: b.ref.checkpoint });
      continue;
    }
    const model = b.optimizer as LearnedOptimizer;
    const key = configHash({
      modelId: model.modelId,
      config: model.config,
      problem: testRequest.problem,
      trainDataset: { id: trainDataset.id, options: trainDatasetOptions },
      training: trainOpts,
    });
    b.cached = cachedCheckpointPath(ctx.cacheDir, `${model.modelId}-${key}`);
    const weights = spec.retrain ? 'train' : existsSync(b.cached) ? 'cached' : existsSync(`${b.cached}.resume`) ? 'resume' : 'train';
    plan.optimizers.push({ label: b.label, kind: 'learned', weights, checkpoint: b.cached });
  }
  return { plan, problem, reference, testDataset, trainDataset, trainDatasetOptions, testRequest, testOpts, trainOpts, built, retrain: spec.retrain ?? false };
}

/**
 * Checks a comparison as `runComparison` would (ids, options, checkpoints, paths, training
 * options) and says what it would do, without doing it.
 */
export async function planComparison(platform: Platform, spec: ComparisonSpec): Promise<ComparisonPlan> {
  const prepared = prepareComparison(platform, spec);
  for (const b of prepared.built) if (b.learned) (b.optimizer as LearnedOptimizer).dispose();
  const ctx = platform.datasetContext;
  const needed = [prepared.testDataset, ...(prepared.built.some((b) => b.learned) ? [prepared.trainDataset] : [])];
  for (const dataset of needed) {
    const info = await dataset.describe(ctx);
    if (info.needsFiles && !info.present && !ctx.allowDownload) {
      throw new L2oError(`Dataset ${dataset.id} is not available locally.`, `Point --data-dir (or L2O_DATA_DIR) at its files, or pass --download.`);
    }
  }
  return prepared.plan;
}

/** Where the checkpoint of a training key is cached (the key: the model id and a hash of how it is trained). */
export function cachedCheckpointPath(cacheDir: string, key: string): string {
  return path.join(cacheDir, 'checkpoints', `${key}.json`);
}

/** The training log kept beside a cached checkpoint: loss history and validation losses. */
export const trainingLogOf = (checkpoint: string) => checkpoint.replace(/\.json$/, '.training.json');

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

function jobsOf(prepared: PreparedComparison, spec: ComparisonSpec): ComparisonJobs {
  const { testRequest, testOpts } = prepared;
  const slug = `${spec.name}-${prepared.plan.scale}-seed${spec.seed}`;
  return {
    runId: `${slug}-${configHash({ ...spec, retrain: undefined }).slice(0, 10)}`,
    optimizers: prepared.built.map((b) => {
      const trainKey = b.cached ? path.basename(b.cached, '.json') : undefined;
      const evaluate = configHash({
        testRequest,
        test: testOpts,
        label: b.label,
        optimizer: { id: b.ref.id, options: { ...b.optimizer.options } },
        weights: trainKey ?? b.ref.checkpoint ?? null,
        ...(b.problem ? { problem: { ...b.problem.options } } : {}),
      });
      return {
        label: b.label,
        ...(b.cached && trainKey ? { train: { key: trainKey, checkpoint: b.cached } } : {}),
        evaluate: { key: `${b.label}-${evaluate.slice(0, 16)}` },
      };
    }),
  };
}

/** Frees the models' weights (each once: a plugin's dispose need not be idempotent). */
function disposeModels(prepared: PreparedComparison, keep?: PreparedComparison['built'][number]): void {
  for (const b of prepared.built) {
    if (b === keep || b.disposed) continue;
    if (b.learned) (b.optimizer as LearnedOptimizer).dispose();
    b.disposed = true;
  }
}

function builtOf(prepared: PreparedComparison, label: string): PreparedComparison['built'][number] {
  const b = prepared.built.find((x) => x.label === label);
  if (!b) throw new UsageError(`The comparison has no optimizer '${label}'.`, `It has: ${prepared.built.map((x) => x.label).join(', ')}.`);
  return b;
}

/** The jobs of a comparison (checked as runComparison checks it), for a sweep to schedule. */
export function comparisonJobs(platform: Platform, spec: ComparisonSpec): ComparisonJobs {
  const prepared = prepareComparison(platform, spec);
  disposeModels(prepared);
  return jobsOf(prepared, spec);
}

/** What a comparison's jobs work on, resolved as runComparison resolves it: what a cost estimate calibrates and counts. */
export interface ComparisonWorkload {
  problem: PluginRef;
  trainDataset: PluginRef;
  testDataset: PluginRef;
  reference: TestSetRequest['reference'];
  test: { count: number; batchSize: number; iterations: number };
  training: TrainOptions;
  /** The test set's cache folder, and whether it is there (then no reference solve). */
  testSet: { dir: string; cached: boolean };
  optimizers: {
    label: string;
    id: string;
    options: Record<string, unknown>;
    learned: boolean;
    problem?: PluginRef;
    weights?: ComparisonPlan['optimizers'][number]['weights'];
  }[];
}

export function comparisonWorkload(platform: Platform, spec: ComparisonSpec): ComparisonWorkload {
  const prepared = prepareComparison(platform, spec);
  disposeModels(prepared);
  const { problem, testRequest, plan } = prepared;
  return {
    problem: testRequest.problem,
    trainDataset: { id: prepared.trainDataset.id, options: prepared.trainDatasetOptions },
    testDataset: testRequest.dataset,
    reference: testRequest.reference,
    test: prepared.testOpts,
    training: prepared.trainOpts,
    testSet: { dir: testSetDir(testRequest, platform.datasetContext), cached: plan.testSet.cached },
    optimizers: prepared.built.map((b, i) => ({
      label: b.label,
      id: b.ref.id,
      options: { ...b.optimizer.options },
      learned: b.learned,
      ...(b.problem ? { problem: { id: problem.id, options: { ...b.problem.options } } } : {}),
      ...(plan.optimizers[i]!.weights ? { weights: plan.optimizers[i]!.weights } : {}),
    })),
  };
}

/**
 * Makes sure a learned optimizer's checkpoint is cached: reuses an identical one, continues an
 * interrupted training from its resume file, or trains. A baseline or a given checkpoint needs nothing.
 */
async function trainOne(
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
      },
      null,
      1,
    ),
  );
  saveTrainedModel(model, result, cached, { problem: testRequest.problem, trainDataset: trainDataset.id, training: trainOpts });
  rmSync(resumeFile, { force: true });
  return { label, checkpoint: cached, trained: true, resumedAfter, seconds: result.seconds };
}

/** Evaluates one optimizer on the test set; a learned one with the weights trainOne cached (or its given checkpoint). */
async function evaluateOne(
  platform: Platform,
  prepared: PreparedComparison,
  testSet: InstanceSet,
  b: PreparedComparison['built'][number],
  onEvent: (e: ComparisonEvent) => void,
  signal?: AbortSignal,
  parallel: WorkerOptions = {},
): Promise<EvaluatedOptimizer> {
  const { problem, testOpts } = prepared;
  const { ref, label, optimizer, learned, cached } = b;
  const files: RunFiles = {};
  let trainingSeconds: number | undefined;
  let parameters: number | undefined;
  if (learned) {
    const model = optimizer as LearnedOptimizer;
    parameters = model.parameterCount();
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
    files[`checkpoints/${label}.json`] = JSON.stringify(checkpointOf(model, { meta: { trainingSeconds } }));
  }
  throwIfInterrupted(signal);
  const curve = await evaluateOnWorkers(b.problem ?? problem, optimizer, testSet, {
    iterations: testOpts.iterations,
    batchSize: testOpts.batchSize,
    onProgress: (done, total) => onEvent({ kind: 'evaluate', optimizer: label, done, total }),
    signal,
    ...parallel,
  });
  curve.optimizer = label;
  onEvent({ kind: 'evaluated', optimizer: label, curve });
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
    parameters,
    trainingSeconds,
    evaluationSeconds: curve.seconds,
    ...(curve.acceptance ? { acceptance: curve.acceptance.reduce((a, b) => a + b, 0) / curve.acceptance.length } : {}),
  };
  return { summary, curve, files };
}

async function testSetOf(
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
 * Writes the run of a comparison from its optimizers' evaluations (in the spec's order) and
 * stores it when the platform has a RunStore. `runId` names the run directory (default: a new
 * time-stamped name); a sweep passes the comparison's own id, so a run is written once.
 */
export async function writeComparisonRun(
  platform: Platform,
  spec: ComparisonSpec,
  evaluated: readonly EvaluatedOptimizer[],
  options: { runId?: string } = {},
): Promise<ComparisonResult> {
  const prepared = prepareComparison(platform, spec);
  disposeModels(prepared);
  return writeRun(platform, prepared, spec, evaluated, options.runId);
}

/** The raw files behind a real test dataset, for the run's summary; nothing for generated data. */
async function testDataOf(platform: Platform, datasetId: string): Promise<{ testData?: TestDataRecord }> {
  const dataset = platform.registry.get('dataset', datasetId).create({});
  if (!dataset.fixed) return {};
  const info = await dataset.describe(platform.datasetContext);
  if (!info.checksums) return {};
  const manifest = Object.entries(info.checksums)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, sha]) => `${file} ${sha}\n`)
    .join('');
  return {
    testData: {
      dataset: datasetId,
      ...(info.location ? { location: info.location } : {}),
      files: Object.keys(info.checksums).length,
      manifestSha256: createHash('sha256').update(manifest).digest('hex'),
    },
  };
}

async function writeRun(
  platform: Platform,
  prepared: PreparedComparison,
  spec: ComparisonSpec,
  evaluated: readonly EvaluatedOptimizer[],
  runId?: string,
): Promise<ComparisonResult> {
  const { trainDataset, trainDatasetOptions, testRequest, testOpts, trainOpts } = prepared;
  const labels = prepared.built.map((b) => b.label);
  const given = evaluated.map((e) => e.summary.label);
  if (given.join('\n') !== labels.join('\n')) {
    throw new L2oError(`A run of '${spec.name}' needs the evaluations of ${labels.join(', ')} in that order, got ${given.join(', ') || 'none'}.`);
  }
  const scale = getScale(spec.scale);
  const files: RunFiles = Object.assign({}, ...evaluated.map((e) => e.files)) as RunFiles;
  const curves = evaluated.map((e) => e.curve);
  const summary: RunSummary = {
    name: spec.name,
    problem: testRequest.problem,
    trainDataset: { id: trainDataset.id, options: trainDatasetOptions },
    testDataset: testRequest.dataset,
    testInstances: curves[0]?.instances ?? testRequest.count,
    iterations: testOpts.iterations,
    scale: scale.name,
    seed: spec.seed,
    engine: engineLabel(platform.engine.chosen),
    training: { ...trainOpts },
    optimizers: evaluated.map((e) => e.summary),
    createdAt: new Date().toISOString(),
    ...(platform.settings.gitCommit ? { gitCommit: platform.settings.gitCommit } : {}),
    ...(await testDataOf(platform, testRequest.dataset.id)),
  };
  files['config.json'] =
    `${JSON.stringify(JSON.parse(stableStringify({ spec, scale, training: trainOpts, test: testOpts, reference: testRequest.reference })), null, 2)}\n`;
  files['summary.json'] = `${JSON.stringify(summary, null, 2)}\n`;
  // Plots and summary.md come from the host's renderer (the CLI registers @l2o/report's), if any.
  const renderer = platform.optional<RunRenderer>(TOKENS.RunRenderer);
  if (renderer) Object.assign(files, await renderer.render(summary, curves));
  const { runsDir } = platform.settings;
  const runDir = await writeRunDir(runId ? path.join(runsDir, runId) : newRunDirName(runsDir, spec.name), files);
  const store = platform.optional<RunStore>(TOKENS.RunStore);
  const stored = store ? await storeRun(store, runDir, files, summary, curves) : undefined;
  return { runDir, summary, curves, ...(stored ? { stored } : {}) };
}

/** How a comparison runs, not what it computes (so not part of its spec, its id or its cache keys). */
export interface ComparisonExecution {
  /**
   * Worker threads of the test set's reference solve and of the evaluations (the same numbers for
   * any count); default: the training's workers, else 1. A sweep's jobs use one each (a job is one core).
   */
  workers?: number;
}

/**
 * Trains what needs training (reusing checkpoints of identical config), evaluates every
 * optimizer on the same test instances, and writes a run directory atomically.
 */
export async function runComparison(
  platform: Platform,
  spec: ComparisonSpec,
  onEvent: (e: ComparisonEvent) => void = () => {},
  signal?: AbortSignal,
  execution: ComparisonExecution = {},
): Promise<ComparisonResult> {
  const prepared = prepareComparison(platform, spec);
  const workers = execution.workers ?? prepared.trainOpts.workers ?? 1;
  const parallel: WorkerOptions = { workers, workerPlatform: workerPlatformOf(platform) };
  try {
    checkWorkersOnEngine(platform.engine.chosen, workers);
    const testSet = await testSetOf(platform, prepared, onEvent, signal, parallel);
    const evaluated: EvaluatedOptimizer[] = [];
    for (const b of prepared.built) {
      await trainOne(platform, prepared, b, onEvent, signal);
      evaluated.push(await evaluateOne(platform, prepared, testSet, b, onEvent, signal, parallel));
      if (b.learned) (b.optimizer as LearnedOptimizer).dispose();
      b.disposed = true;
    }
    return await writeRun(platform, prepared, spec, evaluated);
  } finally {
    disposeModels(prepared);
  }
}

/** Stores a written run; if that fails, the run directory stays and the error says how to store it later. */
async function storeRun(
  store: RunStore,
  runDir: string,
  files: RunFiles,
  summary: RunSummary,
  curves: EvaluationCurve[],
): Promise<{ id: string; location: string }> {
  const id = path.basename(runDir);
  const checkpoints: Record<string, string> = {};
  const artifacts: Record<string, string | Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) {
    const checkpoint = /^checkpoints\/(.+)\.json$/.exec(name)?.[1];
    if (checkpoint !== undefined && typeof content === 'string') checkpoints[checkpoint] = content;
    else if (!/^metrics\/|^(config|summary)\.json$/.test(name)) artifacts[name] = content;
  }
  try {
    await store.saveRun({
      id,
      summary,
      spec: JSON.parse(files['config.json'] as string),
      curves,
      checkpoints,
      artifacts,
      versions: {},
      ...(summary.gitCommit ? { gitCommit: summary.gitCommit } : {}),
    });
  } catch (e) {
    throw new L2oError(
      `The run is in ${runDir} but could not be stored in ${store.location}: ${(e as Error).message.split('\n')[0]}`,
      `Store it later with: l2o runs import ${runDir}`,
    );
  }
  return { id, location: store.location };
}
