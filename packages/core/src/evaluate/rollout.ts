import { tf } from '../tf.js';
import { throwIfInterrupted } from '../errors.js';
import type { Optimizer, OptimizerState } from '../contracts/optimizer.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import { yieldToEventLoop } from '../util/yield.js';
import { disposeReplacedState, disposeState } from './state.js';

export interface RolloutOptions {
  /** Steps to run at most. */
  iterations: number;
  /** Checked before every step; an aborted signal disposes the state and throws InterruptedError. */
  signal?: AbortSignal;
  /**
   * Sees the state after `init` (k = 0) and after each step (k = 1 … iterations); the state stays
   * owned by the rollout. Returning true stops the rollout early (a solver that has converged).
   */
  onState?: (state: OptimizerState, k: number) => boolean | void | Promise<boolean | void>;
}

/**
 * The one rollout loop of evaluation, reference solves, `solve` and benchmarks:
 * init → step → dispose what the new state does not carry. Every step runs in `tf.tidy`, so the
 * engine's tensor count does not grow with the iterations. Returns the final state (the caller
 * disposes it) and the number of steps run; on an error or interrupt the state is disposed.
 */
export async function rollout(
  problem: Problem,
  optimizer: Optimizer,
  batch: ProblemBatch,
  options: RolloutOptions,
): Promise<{ state: OptimizerState; iterations: number }> {
  let state: OptimizerState = tf.tidy(() => optimizer.init(problem, batch));
  let k = 0;
  try {
    let stop = (await options.onState?.(state, 0)) === true;
    while (!stop && k < options.iterations) {
      if (options.signal) {
        // WASM computes synchronously: without a turn of the event loop a signal is never seen.
        await yieldToEventLoop();
        throwIfInterrupted(options.signal);
      }
      const current = state;
      const next = tf.tidy(() => optimizer.step(problem, batch, current, { k, training: false }));
      disposeReplacedState(state, next);
      state = next;
      k++;
      stop = (await options.onState?.(state, k)) === true;
    }
    return { state, iterations: k };
  } catch (e) {
    disposeState(state);
    throw e;
  }
}
