// Planning a comparison: resolving its spec (ids, scale, seed, test set, training options) and
// checking every input and output before any long work, for runComparison, its dry run and a sweep's jobs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { L2oError, UsageError } from '../../errors.js';
import { checkOutputPath } from '../../io/output-paths.js';
import type { Platform } from '../../container.js';
import type { PluginRegistry } from '../../registry/registry.js';
import type { Optimizer } from '../../contracts/optimizer.js';
import type { Problem } from '../../contracts/problem.js';
import type { Dataset } from '../../contracts/dataset.js';
import type { LearnedOptimizer } from '../../contracts/learned-optimizer.js';
import type { PretrainedProvenance, PretrainedRegistration } from '../../contracts/plugin.js';
import { DEFAULT_REFERENCE } from '../../evaluate/reference.js';
import type { TrainOptions } from '../../train/trainer.js';
import { checkTrainOptions, checkWorkersOnEngine, DEFAULT_TRAIN_OPTIONS } from '../../train/training-options.js';
import { checkpointProblemWarning, loadCheckpointInto, readCheckpoint, type Checkpoint } from '../../train/checkpoint.js';
import { configHash } from '../../util/stable-json.js';
import { checkServes } from '../../contracts/dataset.js';
import { testSetDir, type TestSetRequest } from '../test-set.js';
import { getScale } from '../scales.js';
import { checkRunSizes, checkTrainingSizes } from '../limits.js';
import { datasetOptionsAtScale, normalizeTraining, type PluginRef } from '../train-model.js';

export interface OptimizerRef extends PluginRef {
  /** Name in tables and plots; defaults to the id. */
  label?: string;
  /** Evaluate this checkpoint instead of training. */
  checkpoint?: string;
  /** Evaluate these pretrained weights of the model (a name a pretrained package registers) instead of training. */
  pretrained?: string;
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
export interface PreparedComparison {
  plan: ComparisonPlan;
  problem: Problem;
  reference: Optimizer;
  testDataset: Dataset;
  trainDataset: Dataset;
  trainDatasetOptions: Record<string, unknown>;
  testRequest: TestSetRequest;
  testOpts: { count: number; batchSize: number; iterations: number };
  trainOpts: TrainOptions;
  built: {
    ref: OptimizerRef;
    label: string;
    optimizer: Optimizer;
    learned: boolean;
    cached?: string;
    disposed?: boolean;
    problem?: Problem;
    /** Its weights are a pretrained package's: their name and how they were trained. */
    pretrained?: { name: string; trainedWith: PretrainedProvenance };
  }[];
  retrain: boolean;
}

export function prepareComparison(platform: Platform, spec: ComparisonSpec): PreparedComparison {
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
  const built: PreparedComparison['built'] = spec.optimizers.map((given) => {
    const { ref, checkpoint: pretrained, entry } = withPretrained(registry, given);
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
      const checkpoint = pretrained ?? readCheckpoint(ref.checkpoint);
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
    return {
      ref,
      label: ref.label ?? ref.id,
      optimizer,
      learned: reg.kind === 'model',
      ...(own ? { problem: own } : {}),
      ...(entry ? { pretrained: { name: entry.name, trainedWith: entry.trainedWith } } : {}),
    };
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
 * A pretrained ref as the checkpoint it names (read once, and returned beside it), with the model
 * built from the checkpoint's config (options given beside it must agree with it:
 * loadCheckpointInto names any difference).
 */
function withPretrained(registry: PluginRegistry, ref: OptimizerRef): { ref: OptimizerRef; checkpoint?: Checkpoint; entry?: PretrainedRegistration } {
  if (ref.pretrained === undefined) return { ref };
  if (ref.checkpoint) throw new UsageError(`'${ref.id}' is given both a checkpoint and pretrained weights.`, 'Give --checkpoint or --pretrained, not both.');
  const reg = registry.getAny(['optimizer', 'model'], ref.id);
  if (reg.kind !== 'model') throw new UsageError(`--pretrained is for a learned optimizer; '${ref.id}' is hand-designed.`);
  const entry = registry.pretrained(ref.id, ref.pretrained);
  const checkpoint = readCheckpoint(entry.checkpoint);
  return { ref: { ...ref, checkpoint: entry.checkpoint, options: { ...checkpoint.config, ...ref.options } }, checkpoint, entry };
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

/** Frees the models' weights (each once: a plugin's dispose need not be idempotent). */
export function disposeModels(prepared: PreparedComparison, keep?: PreparedComparison['built'][number]): void {
  for (const b of prepared.built) {
    if (b === keep || b.disposed) continue;
    if (b.learned) (b.optimizer as LearnedOptimizer).dispose();
    b.disposed = true;
  }
}

export function builtOf(prepared: PreparedComparison, label: string): PreparedComparison['built'][number] {
  const b = prepared.built.find((x) => x.label === label);
  if (!b) throw new UsageError(`The comparison has no optimizer '${label}'.`, `It has: ${prepared.built.map((x) => x.label).join(', ')}.`);
  return b;
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
