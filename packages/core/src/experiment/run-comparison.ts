import { existsSync, rmSync } from 'node:fs';
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
import { evaluateOptimizer, type EvaluationCurve } from '../evaluate/evaluator.js';
import { DEFAULT_REFERENCE } from '../evaluate/reference.js';
import type { TrainOptions, TrainProgress } from '../train/trainer.js';
import { checkTrainOptions, DEFAULT_TRAIN_OPTIONS } from '../train/training-options.js';
import { checkpointOf, checkpointProblemWarning, loadCheckpointInto, readCachedCheckpoint, readCheckpoint } from '../train/checkpoint.js';
import { configHash, stableStringify } from '../util/stable-json.js';
import { curveCsv, newRunDirName, writeRunDir, type RunFiles } from '../store/run-store.js';
import { checkServes, loadOrBuildTestSet, testSetDir, type TestSetRequest } from './test-set.js';
import { getScale } from './scales.js';
import { datasetOptionsAtScale, normalizeTraining, saveTrainedModel, trainModelOn, type PluginRef } from './train-model.js';
import type { RunSummary, OptimizerSummary } from './summary.js';

export interface OptimizerRef extends PluginRef {
  /** Name in tables and plots; defaults to the id. */
  label?: string;
  /** Evaluate this checkpoint instead of training. */
  checkpoint?: string;
  /** What the id must be: a learned optimizer (--model) or a hand-designed one (--optimizer). */
  expect?: 'model' | 'optimizer';
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
  built: { ref: OptimizerRef; label: string; optimizer: Optimizer; learned: boolean; cached?: string }[];
}

function prepareComparison(platform: Platform, spec: ComparisonSpec): PreparedComparison {
  const { registry, datasetContext: ctx, settings } = platform;
  const scale = getScale(spec.scale);
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
      loadCheckpointInto(optimizer as LearnedOptimizer, checkpoint);
    }
    return { ref, label: ref.label ?? ref.id, optimizer, learned: reg.kind === 'model' };
  });
  const learned = built.some((b) => b.learned);
  if (learned) checkServes(trainDataset, problem.id);
  const labels = spec.optimizers.map((o) => o.label ?? o.id);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new UsageError(`Optimizer '${dup}' is listed twice.`, 'Give each a distinct label.');

  const testOpts = { ...scale.test, ...spec.test };
  const trainOpts: TrainOptions = normalizeTraining({ ...DEFAULT_TRAIN_OPTIONS, ...scale.training, ...spec.training, seed: spec.seed });
  if (learned) checkTrainOptions(trainOpts);
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
    b.cached = path.join(ctx.cacheDir, 'checkpoints', `${model.modelId}-${key}.json`);
    const weights = spec.retrain ? 'train' : existsSync(b.cached) ? 'cached' : existsSync(`${b.cached}.resume`) ? 'resume' : 'train';
    plan.optimizers.push({ label: b.label, kind: 'learned', weights, checkpoint: b.cached });
  }
  return { plan, problem, reference, testDataset, trainDataset, trainDatasetOptions, testRequest, testOpts, trainOpts, built };
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

/**
 * Trains what needs training (reusing checkpoints of identical config), evaluates every
 * optimizer on the same test instances, and writes a run directory atomically.
 */
export async function runComparison(
  platform: Platform,
  spec: ComparisonSpec,
  onEvent: (e: ComparisonEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<ComparisonResult> {
  const { datasetContext: ctx, settings } = platform;
  const { problem, reference, testDataset, trainDataset, trainDatasetOptions, testRequest, testOpts, trainOpts, built } = prepareComparison(platform, spec);
  const scale = getScale(spec.scale);
  const testSet = await loadOrBuildTestSet(
    testDataset,
    problem,
    reference,
    testRequest,
    ctx,
    testOpts.batchSize,
    (done, total) => onEvent({ kind: 'test-set', done, total, cached: false }),
    signal,
  );
  onEvent({ kind: 'test-set', done: testSet.set.count, total: testSet.set.count, cached: testSet.cached });

  const files: RunFiles = {};
  const summaries: OptimizerSummary[] = [];
  const curves: EvaluationCurve[] = [];
  for (const { ref, label, optimizer, learned, cached } of built) {
    let trainingSeconds: number | undefined;
    let parameters: number | undefined;
    if (learned) {
      const model = optimizer as LearnedOptimizer;
      parameters = model.parameterCount();
      if (!ref.checkpoint && cached) {
        // A cached checkpoint that cannot be read (truncated, edited) is a cache miss, with a warning.
        const checkpoint = spec.retrain ? null : readCachedCheckpoint(cached, (line) => platform.logger.warn(line));
        if (checkpoint) {
          loadCheckpointInto(model, checkpoint);
          trainingSeconds = checkpoint.meta?.trainingSeconds as number | undefined;
          onEvent({ kind: 'train-reused', optimizer: label, checkpoint: cached });
        } else {
          // An interrupted training leaves its state beside the checkpoint it would have become;
          // the same command continues it.
          const resumeFile = `${cached}.resume`;
          const resumeFrom = existsSync(resumeFile) && !spec.retrain ? resumeFile : undefined;
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
          rmSync(resumeFile, { force: true });
          trainingSeconds = result.seconds;
          saveTrainedModel(model, result, cached, { problem: testRequest.problem, trainDataset: trainDataset.id, training: trainOpts });
          files[`training/${label}.json`] = JSON.stringify({ history: result.history, validation: result.validation, seconds: result.seconds }, null, 1);
        }
      }
      files[`checkpoints/${label}.json`] = JSON.stringify(checkpointOf(model, { meta: { trainingSeconds } }));
    }
    throwIfInterrupted(signal);
    const curve = await evaluateOptimizer(problem, optimizer, testSet.set, {
      iterations: testOpts.iterations,
      batchSize: testOpts.batchSize,
      onProgress: (done, total) => onEvent({ kind: 'evaluate', optimizer: label, done, total }),
      signal,
    });
    curve.optimizer = label;
    curves.push(curve);
    onEvent({ kind: 'evaluated', optimizer: label, curve });
    files[`metrics/${label}.csv`] = curveCsv(curve);
    files[`metrics/${label}.json`] = JSON.stringify(curve, null, 1);
    summaries.push({
      label,
      id: ref.id,
      kind: learned ? 'learned' : 'baseline',
      options: { ...optimizer.options },
      finalGap: curve.finalGap,
      finalF: curve.meanF.at(-1)!,
      iterationsTo: curve.iterationsTo,
      divergedAt: curve.divergedAt,
      parameters,
      trainingSeconds,
      evaluationSeconds: curve.seconds,
    });
    if (learned) (optimizer as LearnedOptimizer).dispose();
  }

  const summary: RunSummary = {
    name: spec.name,
    problem: testRequest.problem,
    trainDataset: { id: trainDataset.id, options: trainDatasetOptions },
    testDataset: testRequest.dataset,
    testInstances: testSet.set.count,
    iterations: testOpts.iterations,
    scale: scale.name,
    seed: spec.seed,
    engine: platform.engine.chosen,
    training: { ...trainOpts },
    optimizers: summaries,
    createdAt: new Date().toISOString(),
  };
  files['config.json'] =
    `${JSON.stringify(JSON.parse(stableStringify({ spec, scale, training: trainOpts, test: testOpts, reference: testRequest.reference })), null, 2)}\n`;
  files['summary.json'] = `${JSON.stringify(summary, null, 2)}\n`;
  // Plots and summary.md come from the host's renderer (the CLI registers @l2o/report's), if any.
  const renderer = platform.optional<RunRenderer>(TOKENS.RunRenderer);
  if (renderer) Object.assign(files, await renderer.render(summary, curves));
  const runDir = await writeRunDir(newRunDirName(settings.runsDir, spec.name), files);
  const store = platform.optional<RunStore>(TOKENS.RunStore);
  const stored = store ? await storeRun(store, runDir, files, summary, curves) : undefined;
  return { runDir, summary, curves, ...(stored ? { stored } : {}) };
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
    await store.saveRun({ id, summary, spec: JSON.parse(files['config.json'] as string), curves, checkpoints, artifacts, versions: {} });
  } catch (e) {
    throw new L2oError(
      `The run is in ${runDir} but could not be stored in ${store.location}: ${(e as Error).message.split('\n')[0]}`,
      `Store it later with: l2o runs import ${runDir}`,
    );
  }
  return { id, location: store.location };
}
