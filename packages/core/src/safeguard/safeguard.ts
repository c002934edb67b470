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
  /**
   * The fallback's step size: 'lipschitz' 1/L with the problem's L; 'backtracking' 1/L_k with L_k
   * found by backtracking (Beck and Teboulle 2009), never above the problem's L.
   */
  safeguardStep: 'lipschitz' | 'backtracking';
}

/** Backtracking starts at 2⁻¹⁰ × the problem's L and doubles: at most 11 trials a step, the last one the problem's L. */
const BACKTRACK_START = 2 ** -10;

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
  safeguardStep: enumOption<SafeguardSettings['safeguardStep']>(
    'lipschitz',
    ['lipschitz', 'backtracking'],
    "the fallback's step: 1/L with the problem's L ('lipschitz'), or 1/L_k with L_k found by backtracking ('backtracking': from 2^-10 L, doubled where the sufficient-decrease condition fails, never decreasing, at most L)",
  ),
};

/**
 * The merit: ‖x − prox(x − ∇f(x)/L, 1/L)‖₂ per instance, the fixed-point residual of the
 * proximal-gradient operator T; 0 exactly at a minimiser. T is averaged, so a T step never
 * increases it (the premise of the safeguard's guarantee).
 */
export function fixedPointResidual(problem: Problem, batch: ProblemBatch, x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.norm(tf.sub(x, proxGradStep(problem, batch, x)), 'euclidean', 1) as tf.Tensor1D);
}

/** T(x) = prox(x − ∇f(x)/L, 1/L), with the problem's L unless one is given per instance. */
function proxGradStep(problem: Problem, batch: ProblemBatch, x: tf.Tensor2D, L: tf.Tensor1D = batch.L, grad?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const s = tf.reshape<tf.Rank.R2>(tf.div(1, L), [batch.size, 1]);
    return problem.prox(batch, tf.sub(x, tf.mul(s, grad ?? problem.grad(batch, x))), s);
  });
}

/**
 * The proximal-gradient step from y with backtracking on L: from L_prev, double L where the
 * sufficient-decrease condition f(T) ≤ f(y) + ⟨∇f(y), T − y⟩ + L/2 ‖T − y‖² fails, up to the
 * problem's L (where it holds by the descent lemma). Near a minimiser float32 rounds the
 * differences of f to noise, which would double L for nothing; there the condition is also
 * accepted from gradients: f convex (as the safeguard's guarantee assumes) gives
 * f(T) ≤ f(y) + ⟨∇f(T), T − y⟩, so ⟨∇f(T) − ∇f(y), T − y⟩ ≤ L/2 ‖T − y‖² implies it (a test up to
 * twice stricter, in differences float32 resolves). Returns T and the L of each instance.
 */
function backtrackingStep(problem: Problem, batch: ProblemBatch, y: tf.Tensor2D, Lprev: tf.Tensor1D): { x: tf.Tensor2D; L: tf.Tensor1D } {
  const grad = problem.grad(batch, y);
  const fy = problem.f(batch, y);
  // Four float32 roundings of f(y).
  const slack = tf.mul(4 * 2 ** -24, tf.abs(fy));
  let L = tf.minimum<tf.Tensor1D>(Lprev, batch.L);
  for (;;) {
    const x = proxGradStep(problem, batch, y, L, grad);
    const d = tf.sub(x, y);
    const quadratic = tf.mul(tf.div(L, 2), tf.sum(tf.square(d), 1));
    const byValues = tf.lessEqual(problem.f(batch, x), tf.add(tf.add(fy, tf.sum(tf.mul(grad, d), 1)), tf.add(quadratic, slack)));
    const byGradients = tf.lessEqual(tf.sum(tf.mul(tf.sub(problem.grad(batch, x), grad), d), 1), quadratic);
    const done = tf.logicalOr(tf.logicalOr(byValues, byGradients), tf.greaterEqual(L, batch.L));
    if (tf.all(done).dataSync()[0]) return { x, L };
    L = tf.where(done, L, tf.minimum(tf.mul(L, 2), batch.L)) as tf.Tensor1D;
  }
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
  /** Backtracking: each instance's L_k, [size] (never decreasing). */
  safeguardL?: tf.Tensor1D;
}

const OWN = new Set(['safeguardMu', 'accepted', 'safeguardZ', 'safeguardT', 'safeguardL']);

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
      const backtracking = this.settings.safeguardStep === 'backtracking' ? { safeguardL: tf.mul<tf.Tensor1D>(batch.L, BACKTRACK_START) } : {};
      return { ...inner, safeguardMu: fixedPointResidual(problem, batch, p), ...fista, ...backtracking };
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
      // The fallback's step from y: with backtracking, only when some instance falls back (its
      // trials read back), and L_k kept where the learned step is.
      let backtracking: Pick<SafeguardState, 'safeguardL'> = {};
      const fallbackFrom = (y: tf.Tensor2D): tf.Tensor2D => {
        if (this.settings.safeguardStep !== 'backtracking') return proxGradStep(problem, batch, y);
        if (tf.all(keep).dataSync()[0]) {
          backtracking = { safeguardL: tf.clone(state.safeguardL!) };
          return y;
        }
        const { x, L } = backtrackingStep(problem, batch, y, state.safeguardL!);
        backtracking = { safeguardL: tf.where(keep, state.safeguardL!, L) };
        return x;
      };
      let fallback: tf.Tensor2D;
      let fista: Pick<SafeguardState, 'safeguardZ' | 'safeguardT'> = {};
      if (this.settings.safeguard === 'fista') {
        // FISTA from the same point, its momentum restarted wherever the learned step was kept.
        const t = state.safeguardT!;
        fallback = fallbackFrom(state.safeguardZ!);
        const tNext = tf.div(tf.add(1, tf.sqrt(tf.add(1, tf.mul(4, tf.square(t))))), 2);
        const z = tf.add(fallback, tf.mul(tf.div(tf.sub(t, 1), tNext), tf.sub(fallback, p)));
        fista = { safeguardZ: tf.where(keep2, candidate, z) as tf.Tensor2D, safeguardT: tf.where(keep2, tf.onesLike(tNext), tNext) as tf.Tensor2D };
      } else {
        fallback = fallbackFrom(p);
      }
      const chosen = (a: tf.Tensor2D) => tf.where<tf.Tensor2D>(keep2, a, fallback);
      return {
        ...next,
        x: chosen(next.x),
        ...(next.y ? { y: chosen(next.y) } : {}),
        safeguardMu: tf.mul<tf.Tensor1D>(this.settings.safeguardDecay, state.safeguardMu),
        accepted: tf.cast(keep, 'float32') as tf.Tensor1D,
        ...fista,
        ...backtracking,
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
      const { safeguard, safeguardDecay, safeguardStep, ...own } = options;
      const settings = resolveOptions({ kind: 'model', id: registration.id }, SAFEGUARD_FIELDS, {
        ...(safeguard !== undefined ? { safeguard } : {}),
        ...(safeguardDecay !== undefined ? { safeguardDecay } : {}),
        ...(safeguardStep !== undefined ? { safeguardStep } : {}),
      });
      const model = registration.create(own);
      return settings.safeguard === 'none' ? model : new SafeguardedOptimizer(model, settings);
    },
  };
}
