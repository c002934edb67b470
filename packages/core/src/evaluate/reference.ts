import { tf } from '../tf.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Problem } from '../contracts/problem.js';
import type { InstanceSet } from '../contracts/instances.js';
import { disposeState } from './state.js';
import { rollout } from './rollout.js';
import { forEachBatch } from './batches.js';

export interface ReferenceOptions {
  /** The papers run FISTA 5,000 iterations. */
  maxIterations: number;
  /** Stop earlier once every instance's KKT residual is below this. */
  tolerance: number;
  /** How often the residual is read back (a read-back per iteration would dominate). */
  checkEvery: number;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between iterations with InterruptedError. */
  signal?: AbortSignal;
}

export const DEFAULT_REFERENCE: Omit<ReferenceOptions, 'batchSize'> = {
  maxIterations: 5000,
  tolerance: 1e-6,
  checkEvery: 50,
};

/** The float64 refinement of a reference: its relative KKT residual (see Float64Problem.solve). */
export const FLOAT64_TOLERANCE = 1e-12;
const FLOAT64_MAX_ITERATIONS = 20_000;

export interface ReferenceSolution {
  /**
   * F at the solution, per instance: in float64 from the problem's float64 solve (warm-started at
   * the engine's solution) when the problem has one, else the engine's float32 value.
   */
  fStar: Float64Array;
  /** The solution, [count, n]. */
  x: Float32Array;
  /** Final KKT residual per instance. */
  kkt: Float64Array;
  /** Iterations run per batch. */
  iterations: number[];
  /** The float64 refinement, when the problem has one. */
  float64?: {
    /** Largest relative KKT residual of the float64 solutions. */
    maxKkt: number;
    /**
     * The resolution of the set's relative gaps: the largest over instances of the gap that
     * rounding x* to float32 gives, (F(fround(x*)) − F*)/|F*|, and at least a few float64 ulps.
     * Float32 iterates cannot be told apart below it.
     */
    resolution: number;
  };
}

/** Smallest relative difference of two float64 objectives that is not rounding of their sums. */
const FLOAT64_ROUNDING = 1e-15;

/**
 * Refines a reference solution in float64 on the host, instance by instance, warm-started at the
 * engine's float32 solution: F* exact to ~1e-15 relative instead of float32's ~1e-7.
 */
export function refineReference64(problem: Problem, set: InstanceSet, solution: ReferenceSolution): ReferenceSolution {
  const host = problem.float64;
  if (!host) return solution;
  const n = set.n;
  const fStar = new Float64Array(set.count);
  const x = new Float32Array(set.count * n);
  let maxKkt = 0;
  let resolution = FLOAT64_ROUNDING;
  for (let i = 0; i < set.count; i++) {
    const s = host.solve(set, i, solution.x.subarray(i * n, (i + 1) * n), { tolerance: FLOAT64_TOLERANCE, maxIterations: FLOAT64_MAX_ITERATIONS });
    fStar[i] = s.f;
    const rounded = Float32Array.from(s.x);
    x.set(rounded, i * n);
    maxKkt = Math.max(maxKkt, s.kkt);
    if (s.f !== 0) resolution = Math.max(resolution, Math.abs(host.objective(set, i, rounded) - s.f) / Math.abs(s.f));
  }
  return { ...solution, fStar, x, float64: { maxKkt, resolution } };
}

/** Solves every instance with a reference method to the KKT tolerance or the iteration cap. */
export async function solveReference(problem: Problem, solver: Optimizer, set: InstanceSet, options: ReferenceOptions): Promise<ReferenceSolution> {
  const fStar = new Float64Array(set.count);
  const x = new Float32Array(set.count * set.n);
  const kkt = new Float64Array(set.count);
  const iterations: number[] = [];
  await forEachBatch(problem, set, options, async (batch, start) => {
    const { state, iterations: k } = await rollout(problem, solver, batch, {
      iterations: options.maxIterations,
      signal: options.signal,
      onState: async (s, done) => {
        if (done === 0 || done % options.checkEvery !== 0) return false;
        const worst = tf.tidy(() => tf.max(problem.kktResidual(batch, s.x)));
        const value = (await worst.data())[0]!;
        worst.dispose();
        return value < options.tolerance;
      },
    });
    iterations.push(k);
    const [F, residual] = tf.tidy(() => [problem.objective(batch, state.x), problem.kktResidual(batch, state.x)]);
    fStar.set(await F.data(), start);
    kkt.set(await residual.data(), start);
    x.set(await state.x.data(), start * set.n);
    tf.dispose([F, residual]);
    disposeState(state);
  });
  return refineReference64(problem, set, { fStar, x, kkt, iterations });
}
