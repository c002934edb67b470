import { tf } from '@l2o/core';
import type { ModelRegistration, OptimizerState, Problem, ProblemBatch, StepContext } from '@l2o/core';
import { LearnedModel } from './learned-model.js';
import { Linear } from './layers/linear.js';
import { StackedLstm } from './layers/stacked-rnn.js';
import { detach, tanh } from './ops.js';
import { defaultsOf, intOption, numberOption, resolveOptions, type OptionFields } from '@l2o/core';
import { initialTensors, inputGradientOption, stateInitOf, stateInitOptions, type InputGradient, type StateInitMode } from './state-init.js';

export interface RnnPropOptions {
  hidden: number;
  layers: number;
  beta1: number;
  beta2: number;
  eps: number;
  outputScale: number;
  stateInit: StateInitMode;
  stateInitScale: number;
  inputGradient: InputGradient;
  seed: number;
}

const fields: OptionFields<RnnPropOptions> = {
  hidden: intOption(20, 'LSTM hidden size', { min: 1 }),
  layers: intOption(2, 'LSTM layers', { min: 1 }),
  beta1: numberOption(0.95, 'decay of the first moment', { min: 0, max: 1, exclusiveMax: true }),
  beta2: numberOption(0.95, 'decay of the second moment', { min: 0, max: 1, exclusiveMax: true }),
  eps: numberOption(1e-8, 'added to √v̂', { min: 0, exclusiveMin: true }),
  outputScale: numberOption(0.1, 'x ← x − outputScale · tanh(output)', { min: 0, exclusiveMin: true }),
  ...stateInitOptions,
  inputGradient: inputGradientOption,
  seed: intOption(0, 'seed of the weight initialisation', { min: 0 }),
};

interface RnnPropState extends OptimizerState {
  m: tf.Tensor2D;
  v: tf.Tensor2D;
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

/**
 * RNNProp (Lv et al. 2017), coordinate-wise: inputs are Adam's normalised quantities
 * m̂/(√v̂ + ε) and g/(√v̂ + ε) of a subgradient g of F (β1 = β2 = 0.95), then linear + ELU, a
 * 2-layer LSTM, linear + tanh; x ← x − 0.1 · output.
 */
export class RnnProp extends LearnedModel<RnnPropState> {
  private readonly inLayer: Linear;
  private readonly rnn: StackedLstm;
  private readonly out: Linear;
  private readonly o: RnnPropOptions;

  constructor(options: Record<string, unknown> = {}) {
    const o = resolveOptions({ kind: 'model', id: 'rnnprop' }, fields, options);
    super('rnnprop', options, o as unknown as Record<string, unknown>, o.seed);
    this.o = o;
    this.inLayer = new Linear(this.weights.scope('input'), 2, o.hidden);
    this.rnn = new StackedLstm(this.weights.scope('rnn'), o.hidden, o.hidden, o.layers);
    this.out = new Linear(this.weights.scope('out'), o.hidden, 1);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): RnnPropState {
    return tf.tidy(() => {
      const rows = batch.size * batch.n;
      const init = stateInitOf(this.o.stateInit, this.o.stateInitScale, this.o.seed);
      const x = x0 ? tf.clone(x0) : tf.zeros<tf.Rank.R2>([batch.size, batch.n]);
      return {
        x,
        m: tf.zerosLike(x),
        v: tf.zerosLike(x),
        h: initialTensors(rows, this.o.hidden, this.o.layers, init),
        c: initialTensors(rows, this.o.hidden, this.o.layers, init),
      };
    });
  }

  step(problem: Problem, batch: ProblemBatch, state: RnnPropState, ctx: StepContext): RnnPropState {
    const { beta1, beta2, eps } = this.o;
    const t = ctx.k + 1;
    return tf.tidy(() => {
      const [B, n] = [batch.size, batch.n];
      const g = this.o.inputGradient === 'stop' ? detach(problem.subgradient(batch, state.x)) : problem.subgradient(batch, state.x);
      const m = tf.add<tf.Tensor2D>(tf.mul(beta1, state.m), tf.mul(1 - beta1, g));
      const v = tf.add<tf.Tensor2D>(tf.mul(beta2, state.v), tf.mul(1 - beta2, tf.square(g)));
      const denom = tf.add(tf.sqrt(tf.div(v, 1 - beta2 ** t)), eps);
      const features = tf.stack([tf.div(tf.div(m, 1 - beta1 ** t), denom), tf.div(g, denom)], 2);
      const input = tf.elu<tf.Tensor2D>(this.inLayer.apply(tf.reshape<tf.Rank.R2>(features, [B * n, 2])));
      const r = this.rnn.apply(input, state.h, state.c);
      const update = tf.reshape(tanh(this.out.apply(r.output)), [B, n]);
      return { x: tf.sub<tf.Tensor2D>(state.x, tf.mul(this.o.outputScale, update)), m, v, h: r.h, c: r.c };
    });
  }
}

export const rnnPropRegistration: ModelRegistration = {
  id: 'rnnprop',
  description: 'RNNProp (Lv et al. 2017): Adam-normalised inputs, linear+ELU, 2-layer LSTM-20, linear+tanh',
  create: (options = {}) => new RnnProp(options),
  defaultConfig: () => defaultsOf(fields) as unknown as Record<string, unknown>,
  options: fields,
};
