import { existsSync, readFileSync } from 'node:fs';
import { L2oError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { LearnedOptimizer, SerializedWeights } from '../contracts/learned-optimizer.js';
import type { RngState } from '../random/rng.js';
import { stableStringify } from '../util/stable-json.js';

export const CHECKPOINT_FORMAT = 'l2o-checkpoint/1';

/** Meta-training state needed to continue a run exactly where it stopped. */
export interface TrainingState {
  /** The next global step to run. */
  nextStep: number;
  learningRate: number;
  /** Meta-optimizer (Adam) slots, in the order of the model's variables. */
  metaOptimizer: { name: string; shape: number[]; data: number[] }[];
  rng: RngState;
  best: { step: number; loss: number; weights: SerializedWeights } | null;
  history: { step: number; loss: number }[];
  validation: { step: number; loss: number }[];
  seconds: number;
  /** The options the run was started with; a resume must use the same. */
  options: Record<string, unknown>;
}

/** A model's id, full config and weights; with `training`, a resumable run. */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  modelId: string;
  config: Record<string, unknown>;
  parameterCount: number;
  weights: SerializedWeights;
  training?: TrainingState;
  /** Free-form provenance: problem, dataset, engine, seed. */
  meta?: Record<string, unknown>;
}

export function checkpointOf(model: LearnedOptimizer, extra: Partial<Checkpoint> = {}): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    modelId: model.modelId,
    config: { ...model.config },
    parameterCount: model.parameterCount(),
    weights: model.getWeights(),
    ...extra,
  };
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  writeFileAtomic(file, JSON.stringify(checkpoint));
}

export function readCheckpoint(file: string): Checkpoint {
  if (!existsSync(file)) throw new L2oError(`Checkpoint ${file} does not exist.`, 'Give the path of a checkpoint.json.');
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (e) {
    throw new L2oError(`Checkpoint ${file} is not valid JSON: ${(e as Error).message}.`);
  }
  if (parsed.format !== CHECKPOINT_FORMAT) {
    throw new L2oError(`${file} is not an l2o checkpoint (format '${String(parsed.format)}', expected '${CHECKPOINT_FORMAT}').`);
  }
  return parsed;
}

/**
 * Loads a checkpoint's weights into a model; a checkpoint of another model or config fails
 * with the difference named.
 */
export function loadCheckpointInto(model: LearnedOptimizer, checkpoint: Checkpoint): void {
  if (checkpoint.modelId !== model.modelId) {
    throw new L2oError(
      `The checkpoint holds model '${checkpoint.modelId}', not '${model.modelId}'.`,
      `Use --model ${checkpoint.modelId}, or another checkpoint.`,
    );
  }
  const want = stableStringify(model.config);
  const got = stableStringify(checkpoint.config);
  if (want !== got) {
    const keys = new Set([...Object.keys(model.config), ...Object.keys(checkpoint.config)]);
    const diff = [...keys].filter(
      (k) => stableStringify(model.config[k]) !== stableStringify(checkpoint.config[k]),
    );
    throw new L2oError(
      `The checkpoint's config of '${model.modelId}' differs in ${diff.map((k) => `${k} (checkpoint ${stableStringify(checkpoint.config[k])}, model ${stableStringify(model.config[k])})`).join(', ')}.`,
      'Build the model with the checkpoint config.',
    );
  }
  model.setWeights(checkpoint.weights);
}
