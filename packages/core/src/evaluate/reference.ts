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

export interface ReferenceSolution {
  /** F at the solution, per instance (computed in float32 on the engine, stored as float64). */
  fStar: Float64Array;
  /** The solution, [count, n]. */
  x: Float32Array;
  /** Final KKT residual per instance. */
  kkt: Float64Array;
  /** Iterations run per batch. */
  iterations: number[];
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
  return { fStar, x, kkt, iterations };
}
