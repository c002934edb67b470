import { L2oError, Rng, UsageError, tf } from '@l2o/core/portable';
import type { OptimizerState, Problem, ProblemBatch, StepContext } from '@l2o/core/portable';
import { LearnedModel } from '../learned-model.js';
import { Linear } from '../layers/linear.js';
import { coordinateFeatures, detach } from '../ops.js';
import { enumOption, intOption, numberOption, type OptionFields } from '@l2o/core/portable';
import { inputGradientOption, stateInitOf, stateInitOptions, type InputGradient, type StateInitMode } from '../state-init.js';
import type { Backbone, BackboneState } from './backbone.js';

export type PaNormalisation = '2sigmoid' | 'softplus';

/** Options every PA-family model has, beside its backbone's. */
export interface PaOptions {
  /** Normalisation of the preconditioner head: 2·sigmoid (range (0, 2)) or softplus. */
  pNorm: PaNormalisation;
  pScale: number;
  /** Normalisation of the momentum head. */
  aNorm: PaNormalisation;
  aScale: number;
  stateInit: StateInitMode;
  stateInitScale: number;
  inputGradient: InputGradient;
  seed: number;
}

const NORMS: readonly PaNormalisation[] = ['2sigmoid', 'softplus'];

export const paOptionFields: OptionFields<PaOptions> = {
  pNorm: enumOption<PaNormalisation>('2sigmoid', NORMS, "normalisation of P: '2sigmoid' (2·σ) or 'softplus'"),
  pScale: numberOption(1, 'P = pScale · norm(p head)', { min: 0, exclusiveMin: true }),
  aNorm: enumOption<PaNormalisation>('2sigmoid', NORMS, "normalisation of A: '2sigmoid' (2·σ) or 'softplus'"),
  aScale: numberOption(1, 'A = aScale · norm(a head)', { min: 0 }),
  ...stateInitOptions,
  inputGradient: inputGradientOption,
  seed: intOption(0, 'seed of the weight initialisation (platform RNG)', { min: 0 }),
};

/** The state of a PA optimizer: x_k, y_k and the backbone's recurrent state. */
export interface PaState extends OptimizerState {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** The step size of the PA update, s = 0.9999 / L. */
export const PA_STEP_FACTOR = 0.9999;

function normalise(z: tf.Tensor, norm: PaNormalisation, scale: number): tf.Tensor {
  const v = norm === '2sigmoid' ? tf.mul(tf.sigmoid(z), 2) : tf.softplus(z);
  return scale === 1 ? v : tf.mul(v, scale);
}

/**
 * The L2O-PA learned optimizer (Liu et al., ICML 2023), with any Backbone. Per coordinate:
 *   features = backbone(∇f(y_k)ᵢ, (y_k)ᵢ)          (inputs detached)
 *   h = ReLU(linear(features)),  P = pScale·norm(p(h)),  A = aScale·norm(a(h))
 *   x_{k+1} = prox_{r, P·s}(y_k − P·s·∇f(y_k)),  s = 0.9999 / L
 *   y_{k+1} = x_{k+1} + A·(x_{k+1} − x_k)
 * Weights: `backbone.*`, then `linear.*`, `p.*`, `a.*` (the module names of the PyTorch reference).
 */
export class PaOptimizer<O extends object = Record<string, unknown>> extends LearnedModel<PaState> {
  readonly backbone: Backbone;
  readonly linear: Linear;
  readonly pHead: Linear;
  readonly aHead: Linear;
  private readonly pa: PaOptions;
  private fallbackDropoutRng: Rng | null = null;

  constructor(
    modelId: string,
    userOptions: Record<string, unknown>,
    config: O & PaOptions,
    buildBackbone: (weights: import('../weights.js').WeightFactory, options: O) => Backbone,
  ) {
    super(modelId, userOptions, config as unknown as Record<string, unknown>, config.seed);
    this.pa = config;
    try {
      this.backbone = buildBackbone(this.weights.scope('backbone'), config);
      for (const key of this.backbone.stateKeys) {
        if (key === 'x' || key === 'y') throw new L2oError(`The backbone of model '${modelId}' uses the reserved state key '${key}'.`);
      }
      const H = this.backbone.outputSize;
      this.linear = new Linear(this.weights.scope('linear'), H, H);
      this.pHead = new Linear(this.weights.scope('p'), H, 1);
      this.aHead = new Linear(this.weights.scope('a'), H, 1);
    } catch (e) {
      this.weights.dispose();
      throw e;
    }
  }

  /** Parameters of the shared heads for a backbone width H: linear(H,H) + p(H,1) + a(H,1). */
  static headsParameterCount(H: number): number {
    return Linear.parameterCount(H, H) + 2 * Linear.parameterCount(H, 1);
  }

  init(_problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): PaState {
    return tf.tidy(() => {
      const x = x0 ? tf.clone(x0) : tf.zeros<tf.Rank.R2>([batch.size, batch.n]);
      const y = tf.clone(x);
      const init = stateInitOf(this.pa.stateInit, this.pa.stateInitScale, this.pa.seed);
      const recurrent = this.backbone.initState(batch.size * batch.n, init, { batch: batch.size, n: batch.n });
      return { ...recurrent, x, y };
    });
  }

  private dropoutRng(ctx: StepContext): Rng {
    // The trainer passes its generator (so a resumed run draws the same masks); otherwise the
    // model's own stream, fixed by its seed.
    if (ctx.rng) return ctx.rng;
    this.fallbackDropoutRng ??= Rng.stream(this.pa.seed, 'dropout');
    return this.fallbackDropoutRng;
  }

  /** P and A for the current state (the heads' outputs after normalisation), [B, n] each, plus what the step needs. */
  private heads(
    problem: Problem,
    batch: ProblemBatch,
    state: PaState,
    ctx: StepContext,
  ): { P: tf.Tensor2D; A: tf.Tensor2D; grad: tf.Tensor2D; y: tf.Tensor2D; recurrent: BackboneState } {
    const B = batch.size;
    const n = batch.n;
    const y = state.y ?? state.x;
    const grad = problem.grad(batch, y);
    const features = coordinateFeatures([grad, y]);
    const input = this.pa.inputGradient === 'stop' ? detach(features) : features;
    const previous: BackboneState = {};
    for (const key of this.backbone.stateKeys) {
      const value = state[key];
      if (!Array.isArray(value)) {
        throw new UsageError(`The state given to model '${this.modelId}' has no '${key}': it was not made by this model's init().`);
      }
      previous[key] = value;
    }
    const { output, state: recurrent } = this.backbone.forward(input, previous, {
      batch: B,
      n,
      training: ctx.training,
      ...(ctx.training ? { rng: this.dropoutRng(ctx) } : {}),
    });
    const h = tf.relu(this.linear.apply(output));
    const P = tf.reshape<tf.Rank.R2>(normalise(this.pHead.apply(h), this.pa.pNorm, this.pa.pScale), [B, n]);
    const A = tf.reshape<tf.Rank.R2>(normalise(this.aHead.apply(h), this.pa.aNorm, this.pa.aScale), [B, n]);
    return { P, A, grad, y, recurrent };
  }

  step(problem: Problem, batch: ProblemBatch, state: PaState, ctx: StepContext): PaState {
    return tf.tidy(() => {
      const { P, A, grad, y, recurrent } = this.heads(problem, batch, state, ctx);
      const s = tf.reshape(tf.div(PA_STEP_FACTOR, batch.L), [batch.size, 1]);
      const Ps = tf.mul(P, s);
      const x = problem.prox(batch, tf.sub(y, tf.mul(Ps, grad)), Ps);
      const yNext = tf.add(x, tf.mul(A, tf.sub(x, state.x)));
      return { ...recurrent, x, y: yNext } as PaState;
    });
  }

  /** P and A at a state, [B, n] each (diagnostics; no state change). */
  coefficients(problem: Problem, batch: ProblemBatch, state: PaState): { P: tf.Tensor2D; A: tf.Tensor2D } {
    return tf.tidy(() => {
      const { P, A } = this.heads(problem, batch, state, { k: 0, training: false });
      return { P, A };
    });
  }
}
