// Safeguarded learned optimizers (Heaton, Chen, Wang, Yin, "Safeguarded Learned Convex
// Optimization", AAAI 2023): the learned step is kept where its merit (the fixed-point residual
// of the proximal-gradient operator) is at most μ_k, a safeguard sequence decaying geometrically
// from the first merit (μ_{k+1} = θ μ_k); elsewhere a provably convergent step is taken from the
// same point. Either finitely many learned steps are kept (then the fallback's convergence
// applies) or infinitely many, whose merits are ≤ μ_k → 0.
import { tf } from '../tf.js';
import type { LearnedOptimizer, SerializedWeights } from '../contracts/learned-optimizer.js';
import { evaluationPoint, type OptimizerState, type StepContext } from '../contracts/optimizer.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import type { ModelRegistration } from '../contracts/plugin.js';
import { enumOption, numberOption, resolveOptions, type OptionFields } from '../options/fields.js';

export interface SafeguardSettings {
  /** The fallback: 'none' (no safeguard), 'ista' (a proximal-gradient step: the guarantee) or 'fista'. */
  safeguard: 'none' | 'ista' | 'fista';
  /** θ: the safeguard sequence μ_k = θ^k × the first merit, which a kept learned step's merit must not exceed. */
  safeguardDecay: number;
}

/** Options every model gets from core (beside its own): the safeguard acts at evaluation only. */
export const SAFEGUARD_FIELDS: OptionFields<SafeguardSettings> = {
  safeguard: enumOption<SafeguardSettings['safeguard']>(
    'none',
    ['none', 'ista', 'fista'],
    'at evaluation, keep a learned step only where the proximal-gradient fixed-point residual it reaches is ≤ safeguardDecay^k × the first residual; elsewhere take this method’s step from the same point (training is unchanged)',
  ),
  safeguardDecay: numberOption(0.9, 'θ of the safeguard sequence μ_k = θ^k μ_0 that a kept learned step’s residual must not exceed', {
    min: 0,
    exclusiveMin: true,
    max: 1,
    exclusiveMax: true,
  }),
};

/**
 * The merit: ‖x − prox(x − ∇f(x)/L, 1/L)‖₂ per instance, the fixed-point residual of the
 * proximal-gradient operator T; 0 exactly at a minimiser. T is averaged, so a T step never
 * increases it (the premise of the safeguard's guarantee).
 */
export function fixedPointResidual(problem: Problem, batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.norm(tf.sub(x, proxGradStep(problem, batch, x)), 'euclidean', 1) as tf.Tensor1D);
}

/** T(x) = prox(x − ∇f(x)/L, 1/L). */
function proxGradStep(problem: Problem, batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const s = tf.reshape<tf.Rank.R2>(tf.div(1, batch.L), [batch.size, 1]);
    return problem.prox(batch, tf.sub(x, tf.mul(s, problem.grad(batch, x))), s);
  });
}

/** The safeguard's own state beside the learned optimizer's (prefixed so as not to clash with it). */
interface SafeguardState extends OptimizerState {
  /** μ_k, the safeguard sequence, [size]. */
  safeguardMu: tf.Tensor1D;
  /** 1 where this step kept the learned step, 0 where it fell back, [size] (absent at k = 0). */
  accepted?: tf.Tensor1D;
  /** FISTA fallback: the extrapolated point and t, per instance (t = 1 after a learned step). */
  safeguardZ?: tf.Tensor2D;
  safeguardT?: tf.Tensor2D;
}

const OWN = new Set(['safeguardMu', 'accepted', 'safeguardZ', 'safeguardT']);

/** The learned optimizer's part of a state. */
function innerOf(state: OptimizerState): OptimizerState {
  return Object.fromEntries(Object.entries(state).filter(([k]) => !OWN.has(k))) as OptimizerState;
}

/**
 * A learned optimizer with a safeguard. Its weights, config and checkpoints are the model's (a
 * safeguarded model is trained as the plain one: meta-training goes through the model alone).
 */
export class SafeguardedOptimizer implements LearnedOptimizer<SafeguardState> {
  readonly learned = true;
  readonly id: string;
  readonly modelId: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly options: Readonly<Record<string, unknown>>;

  constructor(
    readonly model: LearnedOptimizer,
    readonly settings: SafeguardSettings,
  ) {
    this.id = model.id;
    this.modelId = model.modelId;
    this.config = model.config;
    this.options = { ...model.options, ...settings };
  }

  variables(): tf.Variable[] {
    return this.model.variables();
  }
  parameterCount(): number {
    return this.model.parameterCount();
  }
  getWeights(): SerializedWeights {
    return this.model.getWeights();
  }
  setWeights(weights: SerializedWeights): void {
    this.model.setWeights(weights);
  }
  dispose(): void {
    this.model.dispose();
  }

  init(problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): SafeguardState {
    return tf.tidy(() => {
      const inner = this.model.init(problem, batch, x0);
      const p = evaluationPoint(inner);
      const fista = this.settings.safeguard === 'fista' ? { safeguardZ: tf.clone(p), safeguardT: tf.ones<tf.Rank.R2>([batch.size, 1]) } : {};
      return { ...inner, safeguardMu: fixedPointResidual(problem, batch, p), ...fista };
    });
  }

  step(problem: Problem, batch: ProblemBatch, state: SafeguardState, ctx: StepContext): SafeguardState {
    // Meta-training is the model's own: no safeguard, so the trained weights are the plain model's.
    if (ctx.training) return this.model.step(problem, batch, innerOf(state), ctx) as SafeguardState;
    return tf.tidy(() => {
      const p = evaluationPoint(state);
      const next = this.model.step(problem, batch, innerOf(state), ctx);
      const candidate = evaluationPoint(next);
      const candidateMerit = fixedPointResidual(problem, batch, candidate);
      // Not finite (a diverging learned step) is never kept.
      const keep = tf.logicalAnd(tf.lessEqual(candidateMerit, state.safeguardMu), tf.isFinite(candidateMerit));
      const keep2 = tf.reshape(keep, [batch.size, 1]);
      let fallback: tf.Tensor2D;
      let fista: Pick<SafeguardState, 'safeguardZ' | 'safeguardT'> = {};
      if (this.settings.safeguard === 'fista') {
        // FISTA from the same point, its momentum restarted wherever the learned step was kept.
        const t = state.safeguardT!;
        fallback = proxGradStep(problem, batch, state.safeguardZ!);
        const tNext = tf.div(tf.add(1, tf.sqrt(tf.add(1, tf.mul(4, tf.square(t))))), 2);
        const z = tf.add(fallback, tf.mul(tf.div(tf.sub(t, 1), tNext), tf.sub(fallback, p)));
        fista = { safeguardZ: tf.where(keep2, candidate, z) as tf.Tensor2D, safeguardT: tf.where(keep2, tf.onesLike(tNext), tNext) as tf.Tensor2D };
      } else {
        fallback = proxGradStep(problem, batch, p);
      }
      const chosen = (a: tf.Tensor2D) => tf.where<tf.Tensor2D>(keep2, a, fallback);
      return {
        ...next,
        x: chosen(next.x),
        ...(next.y ? { y: chosen(next.y) } : {}),
        safeguardMu: tf.mul<tf.Tensor1D>(this.settings.safeguardDecay, state.safeguardMu),
        accepted: tf.cast(keep, 'float32') as tf.Tensor1D,
        ...fista,
      };
    });
  }
}

/**
 * A model registration whose models take the safeguard options too: `create` builds the model
 * from its own options and wraps it when a safeguard is asked for. Core applies it to every model.
 */
export function withSafeguardOptions(registration: ModelRegistration): ModelRegistration {
  return {
    ...registration,
    options: { ...registration.options, ...SAFEGUARD_FIELDS },
    create(options: Record<string, unknown> = {}) {
      const { safeguard, safeguardDecay, ...own } = options;
      const settings = resolveOptions({ kind: 'model', id: registration.id }, SAFEGUARD_FIELDS, {
        ...(safeguard !== undefined ? { safeguard } : {}),
        ...(safeguardDecay !== undefined ? { safeguardDecay } : {}),
      });
      const model = registration.create(own);
      return settings.safeguard === 'none' ? model : new SafeguardedOptimizer(model, settings);
    },
  };
}
