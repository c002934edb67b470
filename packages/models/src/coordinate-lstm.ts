/**
 * What L2O-DM and RNNProp share: per coordinate, two features → (RNNProp only: linear `input.*`
 * + ELU) → an LSTM stack `rnn.*` → linear `out.*` to one value → update, and
 * x ← x − outputScale · update. They differ in the features, the update's squashing and the
 * state they carry beside (h, c).
 */
import { tf } from '@l2o/core/portable';
import type { OptimizerState, ProblemBatch } from '@l2o/core/portable';
import { intOption, numberOption, resolveOptions, type OptionFields } from '@l2o/core/portable';
import { LearnedModel } from './learned-model.js';
import { Linear } from './layers/linear.js';
import { StackedLstm } from './layers/stacked-rnn.js';
import type { RnnSize } from './rnn-size.js';
import { initialTensors, inputGradientOption, stateInitOf, stateInitOptions, type InputGradient, type StateInitMode } from './state-init.js';

/** Features per coordinate. */
const FEATURES = 2;

export interface CoordinateLstmOptions extends RnnSize {
  outputScale: number;
  stateInit: StateInitMode;
  stateInitScale: number;
  inputGradient: InputGradient;
  seed: number;
}

type UpdateOptions = Omit<CoordinateLstmOptions, keyof RnnSize>;

/** The option fields after the model's own, `outputScale` described by the model's update rule. */
export function updateOptions(outputScale: string): OptionFields<UpdateOptions> {
  return {
    outputScale: numberOption(0.1, outputScale, { min: 0, exclusiveMin: true }),
    ...stateInitOptions,
    inputGradient: inputGradientOption,
    seed: intOption(0, 'seed of the weight initialisation', { min: 0 }),
  };
}

export interface CoordinateLstmState extends OptimizerState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export abstract class CoordinateLstmModel<S extends CoordinateLstmState, O extends CoordinateLstmOptions> extends LearnedModel<S> {
  protected readonly o: O;
  private readonly inLayer: Linear | undefined;
  private readonly rnn: StackedLstm;
  private readonly out: Linear;

  /** `embed`: the features go through linear + ELU before the LSTM (RNNProp), else straight in (L2O-DM). */
  protected constructor(id: string, fields: OptionFields<O>, options: Record<string, unknown>, embed: boolean) {
    const o = resolveOptions({ kind: 'model', id }, fields, options);
    super(id, options, o as unknown as Record<string, unknown>, o.seed);
    this.o = o;
    this.inLayer = embed ? new Linear(this.weights.scope('input'), FEATURES, o.hidden) : undefined;
    this.rnn = new StackedLstm(this.weights.scope('rnn'), embed ? o.hidden : FEATURES, o.hidden, o.layers);
    this.out = new Linear(this.weights.scope('out'), o.hidden, 1);
  }

  /** x₀ (zeros if not given) and the LSTM's initial (h, c). */
  protected initialState(batch: ProblemBatch, x0?: tf.Tensor2D): CoordinateLstmState {
    const rows = batch.size * batch.n;
    const init = stateInitOf(this.o.stateInit, this.o.stateInitScale, this.o.seed);
    return {
      x: x0 ? tf.clone(x0) : tf.zeros<tf.Rank.R2>([batch.size, batch.n]),
      h: initialTensors(rows, this.o.hidden, this.o.layers, init),
      c: initialTensors(rows, this.o.hidden, this.o.layers, init),
    };
  }

  /** One step from the features [B·n, 2]: x ← x − outputScale · squash(out(LSTM(features))), and the new (h, c). */
  protected advance(batch: ProblemBatch, state: CoordinateLstmState, features: tf.Tensor2D, squash = (t: tf.Tensor2D) => t): CoordinateLstmState {
    const input = this.inLayer ? tf.elu<tf.Tensor2D>(this.inLayer.apply(features)) : features;
    const r = this.rnn.apply(input, state.h, state.c);
    const update = tf.reshape(squash(this.out.apply(r.output)), [batch.size, batch.n]);
    return { x: tf.sub<tf.Tensor2D>(state.x, tf.mul(this.o.outputScale, update)), h: r.h, c: r.c };
  }
}
