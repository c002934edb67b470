// Messages between an evaluation (or reference solve) on the main thread and its workers. Only
// plain data crosses: each worker rebuilds the problem and the optimizer from the registry.
import type { InstanceSet } from '../../contracts/instances.js';
import type { SerializedWeights } from '../../contracts/learned-optimizer.js';
import type { WorkerPlatform } from '../../train/parallel/protocol.js';
import type { ReferenceSolution } from '../reference.js';

/** A hand-designed optimizer by its id and options, or a learned one by its model id, config and weights. */
export type OptimizerRecipe =
  | { kind: 'optimizer'; id: string; options: Record<string, unknown> }
  /** `options` are what it is created with (its config and e.g. the safeguard settings), `config` what it must then have. */
  | { kind: 'model'; id: string; options: Record<string, unknown>; config: Record<string, unknown>; weights: SerializedWeights };

export interface BlockRecipe {
  problem: { id: string; options: Record<string, unknown> };
  optimizer: OptimizerRecipe;
  /** The worker's block of whole batches (its own copy). */
  set: InstanceSet;
  batchSize: number;
}

export type ToEvaluationWorker =
  | { type: 'init'; platform: WorkerPlatform }
  | ({ type: 'evaluate'; iterations: number; float64: boolean } & BlockRecipe)
  | ({ type: 'reference'; maxIterations: number; tolerance: number; checkEvery: number } & BlockRecipe);

export type FromEvaluationWorker =
  | { type: 'ready'; backend: string }
  /** F per instance and iteration of the block, [count, K + 1], and the acceptance sums [K] of a safeguarded optimizer. */
  | { type: 'evaluated'; F: Float64Array; accepted: Float64Array | null; numTensors: number }
  | { type: 'solved'; solution: ReferenceSolution; numTensors: number };
