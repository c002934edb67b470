import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { TOKENS, type Platform } from '../container.js';
import type { RunStore, TrainingRecord } from '../contracts/run-store.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { Problem } from '../contracts/problem.js';
import type { Dataset } from '../contracts/dataset.js';
import { L2oError, UsageError } from '../errors.js';
import { trainLearnedOptimizer, type TrainOptions, type TrainProgress, type TrainResult } from '../train/trainer.js';
import { DEFAULT_TRAIN_OPTIONS, STABILISERS_OFF } from '../train/training-options.js';
import { checkpointOf, readCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { stableStringify } from '../util/stable-json.js';
import { checkServes } from '../contracts/dataset.js';
import { drawInstances } from './test-set.js';
import { engineLabel } from '../engine/extensions.js';
import { getScale } from './scales.js';
import { checkSeed, checkTrainingSizes } from './limits.js';
import { workerPlatformOf } from '../train/parallel/worker-pool.js';

export interface PluginRef {
  id: string;
  options?: Record<string, unknown>;
}

/** A dataset's options at a scale: generators get the scale's preset unless the spec sets one. */
export function datasetOptionsAtScale(ref: PluginRef, dataset: Dataset, preset: string): Record<string, unknown> {
  return dataset.fixed || ref.options?.preset !== undefined ? { ...ref.options } : { preset, ...ref.options };
}

export interface TrainModelSpec {
  problem: Problem;
  model: LearnedOptimizer;
  dataset: Dataset;
  datasetOptions: Record<string, unknown>;
  training: TrainOptions;
  /** Written with the full training state if training is interrupted. */
  resumeFile?: string;
  /** A resumable checkpoint to continue from. */
  resumeFrom?: string;
  meta?: Record<string, unknown>;
}

/**
 * Training options as they are stored and hashed: one worker is the same run as no worker
 * setting at all, and a stabiliser at its off value the same as none, so checkpoints and cache
 * keys written before these options existed stay valid.
 */
export function normalizeTraining(training: TrainOptions): TrainOptions {
  const rest: Record<string, unknown> = { ...training };
  if (rest.workers === 1) delete rest.workers;
  for (const [key, off] of Object.entries(STABILISERS_OFF)) if (rest[key] === off) delete rest[key];
  return rest as unknown as TrainOptions;
}

/**
 * After training: the best validated weights go into the model, which is saved with its
 * provenance (best validation loss and step, training time, training options).
 */
export function saveTrainedModel(model: LearnedOptimizer, result: TrainResult, file: string, meta: Record<string, unknown> = {}): void {
  if (result.best) model.setWeights(result.best.weights);
  saveCheckpoint(
    file,
    checkpointOf(model, {
      meta: {
        ...meta,
        bestValidation: result.best?.loss,
        bestStep: result.best?.step,
        trainingSeconds: result.seconds,
        microBatch: result.microBatch,
        // Only with the rollbackFactor option (undefined is left out of the file).
        rollbacks: result.rollbacks,
      },
    }),
  );
}

/**
 * The end of `l2o train`: the best weights saved to `file` (a resume file of it is stale now and
 * removed) and, when the platform has a RunStore, stored with how they were trained.
 */
export async function finishTraining(
  platform: Platform,
  spec: Omit<TrainModelSpec, 'resumeFile' | 'resumeFrom'>,
  result: TrainResult,
  file: string,
): Promise<{ id: string; location: string } | undefined> {
  saveTrainedModel(spec.model, result, file, { ...spec.meta, training: spec.training });
  rmSync(`${file}.resume`, { force: true });
  const store = platform.optional<RunStore>(TOKENS.RunStore);
  if (!store) return undefined;
  const checkpoint = readFileSync(file, 'utf8');
  const record: TrainingRecord = {
    id: `train-${spec.model.modelId}-${createHash('sha256').update(checkpoint).digest('hex').slice(0, 12)}`,
    modelId: spec.model.modelId,
    problem: { id: spec.problem.id, options: { ...spec.problem.options } },
    dataset: { id: spec.dataset.id, options: spec.datasetOptions },
    training: spec.training,
    engine: engineLabel(platform.engine.chosen),
    checkpoint,
    best: result.best && { step: result.best.step, loss: result.best.loss },
    seconds: result.seconds,
    versions: {},
    createdAt: new Date().toISOString(),
  };
  try {
    const { id } = await store.saveTraining(record);
    return { id, location: store.location };
  } catch (e) {
    throw new L2oError(
      `The checkpoint is in ${file} but could not be stored in ${store.location}: ${(e as Error).message.split('\n')[0]}`,
      'Fix the store and train again, or train with --store off.',
    );
  }
}

/** Meta-trains a model on a dataset's training split with a fixed validation split. */
export async function trainModelOn(
  platform: Platform,
  spec: TrainModelSpec,
  onProgress?: (p: TrainProgress) => void,
  signal?: AbortSignal,
): Promise<TrainResult> {
  const { problem, model, dataset, training } = spec;
  checkServes(dataset, problem.id);
  const resume = spec.resumeFrom ? readCheckpoint(spec.resumeFrom) : undefined;
  if (resume) {
    if (!resume.training) throw new L2oError(`${spec.resumeFrom} is a final checkpoint, not a resumable one.`, 'Resume from the file written on interruption.');
    const saved: Record<string, unknown> = { ...resume.training.options };
    const now: Record<string, unknown> = { ...training };
    const differ = [...new Set([...Object.keys(saved), ...Object.keys(now)])].filter((k) => stableStringify(saved[k]) !== stableStringify(now[k]));
    if (differ.length) {
      const list = differ.map((k) => `${k} (saved ${stableStringify(saved[k]) ?? 'unset'}, now ${stableStringify(now[k]) ?? 'unset'})`).join(', ');
      throw new UsageError(`${spec.resumeFrom} was trained with other options: ${list}.`, 'Resume with the same flags as the interrupted run.');
    }
  }
  const validationSet = await drawInstances(
    dataset,
    problem,
    { dataset: { id: dataset.id, options: spec.datasetOptions }, split: 'validation', count: training.validationSize, seed: training.seed },
    platform.datasetContext,
  );
  return trainLearnedOptimizer(
    {
      problem,
      model,
      validationSet,
      trainInstances: (_step, rng) =>
        dataset.instances({ problem: problem.id, split: 'train', count: training.batchSize, rng, options: spec.datasetOptions }, platform.datasetContext),
      resumeFile: spec.resumeFile,
      resume,
      signal,
      onProgress,
      meta: spec.meta,
      // Workers boot the same engine and plugins as this platform.
      workerPlatform: workerPlatformOf(platform),
      madeBy: { commit: platform.settings.gitCommit, engine: engineLabel(platform.engine.chosen) },
    },
    training,
  );
}

export interface TrainCommandSpec {
  model: PluginRef;
  problem: PluginRef;
  dataset: PluginRef;
  scale: string;
  seed: number;
  training?: Partial<TrainOptions>;
}

/** Resolves the plugins and options of a training run (for `l2o train`). */
export function resolveTraining(platform: Platform, spec: TrainCommandSpec): Omit<TrainModelSpec, 'resumeFile' | 'resumeFrom'> {
  const scale = getScale(spec.scale);
  checkSeed('seed', spec.seed);
  const training = normalizeTraining({ ...DEFAULT_TRAIN_OPTIONS, ...scale.training, ...spec.training, seed: spec.seed });
  checkTrainingSizes(training); // before the model's weights are made
  const problem = platform.registry.get('problem', spec.problem.id).create(spec.problem.options ?? {});
  const model = platform.registry.get('model', spec.model.id).create(spec.model.options ?? {});
  const dataset = platform.registry.get('dataset', spec.dataset.id).create({});
  checkServes(dataset, problem.id);
  return {
    problem,
    model,
    dataset,
    datasetOptions: datasetOptionsAtScale(spec.dataset, dataset, scale.datasetPreset),
    training,
    meta: { problem: spec.problem, dataset: spec.dataset, scale: spec.scale },
  };
}
