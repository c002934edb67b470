/**
 * The part of a PA-family learned optimizer that differs between models: a coordinate-wise
 * network from the per-coordinate input (∇f(y)ᵢ, yᵢ) to a feature vector, with recurrent state.
 * The PA heads and update rule (PaOptimizer) are shared; a new model of the family is a new
 * Backbone plus `definePaModel`.
 */
import type { Rng, tf } from '@l2o/core/portable';
import type { OptionFields } from '@l2o/core/portable';
import type { StateInit } from '../state-init.js';
import type { WeightFactory } from '../weights.js';

/** Recurrent state of a backbone: named lists of tensors, each [rows, …] with rows = batch·n. */
export type BackboneState = Record<string, tf.Tensor[]>;

export interface BackboneContext {
  /** Instances in the batch (B). */
  batch: number;
  /** Coordinates per instance (n); rows = B·n, instance-major (row b·n + i is coordinate i of instance b). */
  n: number;
  /** Meta-training: dropout on. */
  training: boolean;
  /** Generator for stochastic layers (dropout masks); given exactly when training. */
  rng?: Rng;
}

export interface Backbone {
  /** Width of the features it outputs per coordinate (the heads' input width). */
  readonly outputSize: number;
  /** The keys of its state; they become keys of the optimizer state (not 'x' or 'y'). */
  readonly stateKeys: readonly string[];
  /** Initial recurrent state for `rows` = batch·n coordinates. */
  initState(rows: number, init: StateInit, ctx: { batch: number; n: number }): BackboneState;
  /**
   * One iteration. input [rows, 2] = (∇f(y)ᵢ, yᵢ), already detached. Returns the features
   * [rows, outputSize] and the new state. Runs inside the optimizer's tf.tidy: every tensor of
   * the returned state must be new (clone what is carried over unchanged), never an input.
   */
  forward(input: tf.Tensor2D, state: BackboneState, ctx: BackboneContext): { output: tf.Tensor2D; state: BackboneState };
}

/**
 * A PA-family model: its id, its own options (hidden size, layers, …) and how to build its
 * backbone. The PA options (pNorm, pScale, aNorm, aScale, stateInit, stateInitScale, seed) are
 * added by `definePaModel` and must not be redefined.
 */
export interface PaModelDefinition<O extends object> {
  id: string;
  description: string;
  options: OptionFields<O>;
  /** Creates the backbone's weights with `weights` (scoped at `backbone.`). May throw a UsageError on bad option combinations. */
  backbone(weights: WeightFactory, options: O): Backbone;
  /** Closed-form parameter count of the backbone, for listings without building the model. */
  backboneParameterCount?(options: O): number;
}
