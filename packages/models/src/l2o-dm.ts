import { tf } from '@l2o/core';
import type { ModelRegistration, OptimizerState, Problem, ProblemBatch } from '@l2o/core';
import { LearnedModel } from './learned-model.js';
import { Linear } from './layers/linear.js';
import { StackedLstm } from './layers/stacked-rnn.js';
import { detach } from './ops.js';
import { defaultsOf, intOption, numberOption, resolveOptions, type OptionFields } from '@l2o/core';
import { initialTensors, inputGradientOption, stateInitOf, stateInitOptions, type InputGradient, type StateInitMode } from './state-init.js';

export interface L2oDmOptions {
  hidden: number;
  layers: number;
  outputScale: number;
  stateInit: StateInitMode;
  stateInitScale: number;
  inputGradient: InputGradient;
  seed: number;
}

const fields: OptionFields<L2oDmOptions> = {
  hidden: intOption(20, 'LSTM hidden size', { min: 1 }),
  layers: intOption(2, 'LSTM layers', { min: 1 }),
  outputScale: numberOption(0.1, 'x ← x − outputScale · output (0.1 as in the L2O-DM code)', { min: 0, exclusiveMin: true }),
  ...stateInitOptions,
  inputGradient: inputGradientOption,
  seed: intOption(0, 'seed of the weight initialisation', { min: 0 }),
};

interface DmState extends OptimizerState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

/**
 * L2O-DM (Andrychowicz et al. 2016), coordinate-wise: a 2-layer LSTM reads (g, x) per coordinate,
 * with g a subgradient of F (∇f + λ sign x, detached), and a linear layer gives the update:
 * x ← x − outputScale · output.
 */
export class L2oDm extends LearnedModel<DmState> {
  private readonly rnn: StackedLstm;
  private readonly out: Linear;
  private readonly o: L2oDmOptions;

  constructor(options: Record<string, unknown> = {}) {
    const o = resolveOptions({ kind: 'model', id: 'l2o-dm' }, fields, options);
    super('l2o-dm', options, o as unknown as Record<string, unknown>, o.seed);
    this.o = o;
    this.rnn = new StackedLstm(this.weights.scope('rnn'), 2, o.hidden, o.layers);
    this.out = new Linear(this.weights.scope('out'), o.hidden, 1);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): DmState {
    return tf.tidy(() => {
      const rows = batch.size * batch.n;
      const init = stateInitOf(this.o.stateInit, this.o.stateInitScale, this.o.seed);
      return {
        x: x0 ? tf.clone(x0) : tf.zeros<tf.Rank.R2>([batch.size, batch.n]),
        h: initialTensors(rows, this.o.hidden, this.o.layers, init),
        c: initialTensors(rows, this.o.hidden, this.o.layers, init),
      };
    });
  }

  step(problem: Problem, batch: ProblemBatch, state: DmState): DmState {
    return tf.tidy(() => {
      const [B, n] = [batch.size, batch.n];
      const g = problem.subgradient(batch, state.x);
      const features = tf.reshape<tf.Rank.R2>(tf.stack([g, state.x], 2), [B * n, 2]);
      const input = this.o.inputGradient === 'stop' ? detach(features) : features;
      const r = this.rnn.apply(input, state.h, state.c);
      const update = tf.reshape(this.out.apply(r.output), [B, n]);
      return { x: tf.sub<tf.Tensor2D>(state.x, tf.mul(this.o.outputScale, update)), h: r.h, c: r.c };
    });
  }
}

export const l2oDmRegistration: ModelRegistration = {
  id: 'l2o-dm',
  description: 'L2O-DM (Andrychowicz et al. 2016): 2-layer LSTM-20, x ← x − output',
  create: (options = {}) => new L2oDm(options),
  defaultConfig: () => defaultsOf(fields) as unknown as Record<string, unknown>,
  options: fields,
};
