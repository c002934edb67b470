// Messages between the trainer (main thread) and its segment workers. Only plain data crosses:
// each worker has its own tfjs engine, so tensors, models and problems are rebuilt there.
import type { EngineRequest } from '../../engine/engine.js';
import type { InstanceSet } from '../../contracts/instances.js';
import type { RngState } from '../../random/rng.js';

/** What a worker boots to get the main thread's plugins and engine (see bootPlatform). */
export interface WorkerPlatform {
  engine: EngineRequest;
  searchFrom: string[];
  pluginPaths: string[];
}

/** Everything a worker rebuilds its copy of the model and problem from. */
export interface WorkerRecipe {
  platform: WorkerPlatform;
  model: { id: string; config: Record<string, unknown> };
  problem: { id: string; options: Record<string, unknown> };
  /** Shapes of the model's variables, in order: weights and gradients travel as flat arrays in this order. */
  shapes: number[][];
}

export type ToWorker =
  | { type: 'init'; recipe: WorkerRecipe }
  /** A global step's shard: the worker keeps these micro-batches and their states until 'release'. */
  | { type: 'batch'; parts: { set: InstanceSet; weight: number }[]; rng: RngState | null }
  /** Fresh initial states for the current micro-batches (bench repeats). */
  | { type: 'restart' }
  | { type: 'segment'; weights: Float32Array[]; k0: number; unroll: number }
  | { type: 'release' };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'done'; numTensors: number }
  /** Weighted loss and weighted gradient sums over the worker's shard (weights relative to the whole batch). */
  | { type: 'segment'; loss: number; grads: Float32Array[]; numTensors: number }
  | { type: 'error'; message: string };
