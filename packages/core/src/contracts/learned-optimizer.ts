import type { tf } from '../tf.js';
import type { Optimizer, OptimizerState } from './optimizer.js';

/** Weights as plain arrays, for checkpoints that load on any engine. */
export interface SerializedWeights {
  [name: string]: { shape: number[]; data: number[] };
}

/**
 * A learned optimizer: an Optimizer with trainable weights and a JSON config. The same model
 * id and config always build the same set of named weights.
 */
export interface LearnedOptimizer<S extends OptimizerState = OptimizerState> extends Optimizer<S> {
  readonly learned: true;
  /** The model id (e.g. `gru-mha`). */
  readonly modelId: string;
  /** The full resolved config (defaults filled in). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Trainable variables, in a fixed order, with unique names. */
  variables(): tf.Variable[];
  /** Exact number of trainable scalars. */
  parameterCount(): number;
  getWeights(): SerializedWeights;
  /** Throws an L2oError if the names or shapes do not match this model. */
  setWeights(weights: SerializedWeights): void;
  dispose(): void;
}

export function isLearnedOptimizer(o: Optimizer): o is LearnedOptimizer {
  return (o as Partial<LearnedOptimizer>).learned === true;
}
