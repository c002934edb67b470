import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { isL2oError, L2oError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { LearnedOptimizer, SerializedWeights } from '../contracts/learned-optimizer.js';
import type { RngState } from '../random/rng.js';
import { stableStringify } from '../util/stable-json.js';

export const CHECKPOINT_FORMAT = 'l2o-checkpoint/1';

/** One validation: global step (from 1) and loss; a loss that is not finite says on how many instances. */
export interface ValidationPoint {
  step: number;
  loss: number;
  /** Validation instances whose objective was not finite at some iteration (only when the loss was not finite). */
  nonFiniteInstances?: number;
}

/**
 * One process's part of a training (a session): the global steps it ran, fromStep to toStep
 * (counted from 0, toStep excluded), the time they and their validations took, and the commit and
 * engine that ran them (commit unknown for an installed package, and for the steps a resume state
 * written before sessions were recorded had already made).
 */
export interface TrainingSession {
  fromStep: number;
  toStep: number;
  seconds: number;
  commit?: string;
  engine?: string;
}

/** Meta-training state needed to continue a run exactly where it stopped. */
export interface TrainingState {
  /** The next global step to run. */
  nextStep: number;
  learningRate: number;
  /** Meta-optimizer (Adam) slots, in the order of the model's variables. */
  metaOptimizer: { name: string; shape: number[]; data: number[] }[];
  rng: RngState;
  /** With `weightsSha256` (see `weightsChecksum`) when written by `checkpointOf`. */
  best: { step: number; loss: number; weights: SerializedWeights; weightsSha256?: string } | null;
  history: { step: number; loss: number }[];
  validation: ValidationPoint[];
  seconds: number;
  /** Instances per forward/backward pass it runs with (chosen once when the option is 0). */
  microBatch?: number;
  /** With the rollbackFactor option: the Adam slots at the best validation, and the rollbacks so far. */
  bestMetaOptimizer?: { name: string; shape: number[]; data: number[] }[];
  rollbacks?: number;
  /** The options the run was started with; a resume must use the same. */
  options: Record<string, unknown>;
  /** The sessions that made it so far, in order. */
  sessions?: TrainingSession[];
}

/** A model's id, full config and weights; with `training`, a resumable run. */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  modelId: string;
  config: Record<string, unknown>;
  parameterCount: number;
  weights: SerializedWeights;
  /**
   * SHA-256 of `weights` (see `weightsChecksum`), verified by `readCheckpoint`. Checkpoints
   * written before it existed lack it and still load, unverified: that is the compatibility
   * choice, so old checkpoints and cached models keep working.
   */
  weightsSha256?: string;
  training?: TrainingState;
  /** Free-form provenance: problem, dataset, engine, seed. */
  meta?: Record<string, unknown>;
}

/**
 * SHA-256 (hex) of a canonical encoding of weights: names in sorted order, each as its UTF-8
 * length (uint32) and bytes, its rank and dimensions (uint32 each), its value count (uint32)
 * and its values as float32, all little-endian. A value JSON cannot hold (NaN, ±Infinity, which
 * JSON.stringify writes as null) is encoded as NaN, so a saved checkpoint hashes the same when
 * read back. Throws a TypeError on weights that are not name → { shape, data } (see
 * `readCheckpoint`, which checks that first).
 */
export function weightsChecksum(weights: SerializedWeights): string {
  const hash = createHash('sha256').update('l2o-weights/1\0');
  const u32 = (values: number[]) => {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
    return b;
  };
  for (const name of Object.keys(weights).sort()) {
    const { shape, data } = weights[name]!;
    const nameBytes = Buffer.from(name, 'utf8');
    hash
      .update(u32([nameBytes.length]))
      .update(nameBytes)
      .update(u32([shape.length, ...shape, data.length]));
    const values = new DataView(new ArrayBuffer(4 * data.length));
    data.forEach((v, i) => values.setFloat32(4 * i, typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN, true));
    hash.update(new Uint8Array(values.buffer));
  }
  return hash.digest('hex');
}

/** A checkpoint of a model's current weights, with their checksum (and the best weights' one). */
export function checkpointOf(model: LearnedOptimizer, extra: Partial<Checkpoint> = {}): Checkpoint {
  const checkpoint: Checkpoint = {
    format: CHECKPOINT_FORMAT,
    modelId: model.modelId,
    config: { ...model.config },
    parameterCount: model.parameterCount(),
    weights: model.getWeights(),
    ...extra,
  };
  checkpoint.weightsSha256 = weightsChecksum(checkpoint.weights);
  const best = checkpoint.training?.best;
  if (best) checkpoint.training = { ...checkpoint.training!, best: { ...best, weightsSha256: weightsChecksum(best.weights) } };
  return checkpoint;
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  writeFileAtomic(file, JSON.stringify(checkpoint));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why `weights` is not name → { shape: dims, data: numbers of their product }, or null. */
function weightsProblem(weights: unknown): string | null {
  if (!isObject(weights)) return 'its weights are not an object';
  for (const [name, w] of Object.entries(weights)) {
    if (!isObject(w) || !Array.isArray(w.shape) || !Array.isArray(w.data)) return `weight '${name}' is not { shape, data }`;
    if (!w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return `weight '${name}' has shape ${JSON.stringify(w.shape)}`;
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    if (w.data.length !== size) return `weight '${name}' has ${w.data.length} values, its shape [${w.shape.join(', ')}] ${size}`;
    if (!w.data.every((v) => typeof v === 'number' || v === null)) return `weight '${name}' holds a value that is not a number`;
  }
  return null;
}

/**
 * Reads a checkpoint and checks it: JSON, format, well-formed weights and, when the file has
 * them, the checksums of its weights and of its best weights (a resumable checkpoint). A
 * checkpoint without `weightsSha256` (written before checksums) loads unverified. Any problem
 * is one L2oError naming the file.
 */
export function readCheckpoint(file: string): Checkpoint {
  if (!existsSync(file)) throw new L2oError(`Checkpoint ${file} does not exist.`, 'Give the path of a checkpoint.json.');
  let parsed: Checkpoint;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new L2oError(`Cannot read checkpoint ${file}: ${code}.`);
    throw new L2oError(`Checkpoint ${file} is not valid JSON: ${(e as Error).message.replace(/\s+/g, ' ')}.`, 'Retrain, or restore the file.');
  }
  if (!isObject(parsed) || parsed.format !== CHECKPOINT_FORMAT) {
    const format = isObject(parsed) ? String(parsed.format) : JSON.stringify(parsed);
    throw new L2oError(`${file} is not an l2o checkpoint (format '${format}', expected '${CHECKPOINT_FORMAT}').`);
  }
  const corrupt = (what: string) => new L2oError(`Checkpoint ${file} is corrupt: ${what}.`, 'Retrain, or restore the file.');
  if (typeof parsed.modelId !== 'string' || !isObject(parsed.config)) throw corrupt('it has no model id or config');
  const badWeights = weightsProblem(parsed.weights);
  if (badWeights) throw corrupt(badWeights);
  const mismatch = (which: string) => corrupt(`${which} do not match their checksum (edited or truncated?)`);
  if (parsed.weightsSha256 !== undefined && parsed.weightsSha256 !== weightsChecksum(parsed.weights)) throw mismatch('its weights');
  const best = isObject(parsed.training) ? (parsed.training.best as TrainingState['best'] | undefined) : undefined;
  if (isObject(best)) {
    const badBest = weightsProblem(best.weights);
    if (badBest) throw corrupt(`its best ${badBest.replace(/^its /, '')}`);
    if (best.weightsSha256 !== undefined && best.weightsSha256 !== weightsChecksum(best.weights)) throw mismatch('its best weights');
  }
  return parsed;
}

/**
 * A cached checkpoint (run-comparison's checkpoints/<model>-<key>.json), or null when there is
 * none or it cannot be used: unreadable, not JSON, another format, or weights that fail their
 * checksum. A bad file is reported through `warn`, deleted, and the caller trains again, so a
 * corrupt cache entry never blocks its config.
 */
export function readCachedCheckpoint(file: string, warn: (line: string) => void): Checkpoint | null {
  if (!existsSync(file)) return null;
  try {
    return readCheckpoint(file);
  } catch (e) {
    if (!isL2oError(e)) throw e;
    warn(`cached checkpoint ${file} is unreadable (${e.message.replace(/\.$/, '')}); training again`);
    rmSync(file, { force: true });
    return null;
  }
}

/**
 * A warning when a checkpoint was trained on another problem than `problem`, or null. The
 * checkpoint's `meta.problem` is a PluginRef ({ id, options? }) as `l2o train` and
 * runComparison record it; options are compared key by key for the keys the checkpoint
 * recorded (a key it lacks had its default then). A checkpoint without `meta.problem` gives null.
 */
export function checkpointProblemWarning(checkpoint: Checkpoint, problem: { id: string; options?: Record<string, unknown> }): string | null {
  const saved = checkpoint.meta?.problem;
  if (!isObject(saved) || typeof saved.id !== 'string') return null;
  if (saved.id !== problem.id) {
    return `the checkpoint of '${checkpoint.modelId}' was trained on problem '${saved.id}', not '${problem.id}'; it may do poorly here`;
  }
  const savedOptions = isObject(saved.options) ? saved.options : {};
  const now = problem.options ?? {};
  const differ = Object.keys(savedOptions)
    .sort()
    .filter((k) => stableStringify(savedOptions[k]) !== stableStringify(now[k]));
  if (!differ.length) return null;
  const list = differ.map((k) => `${k} (trained ${stableStringify(savedOptions[k])}, now ${stableStringify(now[k]) ?? 'unset'})`).join(', ');
  return `the checkpoint of '${checkpoint.modelId}' was trained on '${saved.id}' with other options: ${list}; it may do poorly here`;
}

/**
 * Loads a checkpoint's weights into a model; a checkpoint of another model or config fails
 * with the difference named, and `source.file` when given (with `source.hint` as the fix for
 * another config).
 */
export function loadCheckpointInto(model: LearnedOptimizer, checkpoint: Checkpoint, source?: { file: string; hint?: string }): void {
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
    const diff = [...keys].filter((k) => stableStringify(model.config[k]) !== stableStringify(checkpoint.config[k]));
    const which = source ? `Checkpoint ${source.file}: its` : "The checkpoint's";
    throw new L2oError(
      `${which} config of '${model.modelId}' differs in ${diff.map((k) => `${k} (checkpoint ${stableStringify(checkpoint.config[k])}, model ${stableStringify(model.config[k])})`).join(', ')}.`,
      source?.hint ?? 'Build the model with the checkpoint config.',
    );
  }
  model.setWeights(checkpoint.weights);
}
