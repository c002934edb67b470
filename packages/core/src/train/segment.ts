// One truncated-BPTT segment, on its own so the trainer, the micro-batch probe, the segment
// workers and the benchmarks share it without importing the trainer (which imports them).
import { tf } from '../tf.js';
import { evaluationPoint, type OptimizerState } from '../contracts/optimizer.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import type { Rng } from '../random/rng.js';
import { disposeReplacedState, keepState } from '../evaluate/state.js';

/** One micro-batch of a training batch, with the optimizer state it carries between segments. */
export interface SegmentPart {
  batch: ProblemBatch;
  /** Its share of the batch (instances / batch size), so accumulated gradients equal the full-batch ones. */
  weight: number;
  state: OptimizerState;
}

/**
 * One truncated-BPTT segment over every micro-batch: `unroll` steps from each part's state,
 * loss = mean over the steps of the batch-mean F at the evaluation point; gradients summed with
 * each part's weight. The parts' states are replaced by the (detached) final states.
 */
export async function runSegment(
  model: LearnedOptimizer,
  problem: Problem,
  parts: SegmentPart[],
  k0: number,
  unroll: number,
  rng?: Rng,
): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
  const variables = model.variables();
  let accumulated: tf.NamedTensorMap | null = null;
  let loss = 0;
  for (const part of parts) {
    let carried: OptimizerState | null = null;
    const { value, grads } = tf.variableGrads(() => {
      let s = part.state;
      let total: tf.Scalar = tf.scalar(0);
      for (let j = 0; j < unroll; j++) {
        const next = model.step(problem, part.batch, s, { k: k0 + j, training: true, rng });
        total = tf.add(total, tf.mean(problem.objective(part.batch, evaluationPoint(next))));
        s = next;
      }
      // The state carried into the next segment outlives this scope, detached from it.
      carried = keepState(s);
      return tf.div<tf.Scalar>(total, unroll);
    }, variables);
    disposeReplacedState(part.state, carried!);
    part.state = carried!;
    loss += (await value.data())[0]! * part.weight;
    value.dispose();
    const merged: tf.NamedTensorMap = tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      for (const v of variables) {
        const g = tf.mul(grads[v.name]!, part.weight);
        out[v.name] = accumulated ? tf.add(accumulated[v.name]!, g) : g;
      }
      return out;
    });
    tf.dispose(grads);
    if (accumulated) tf.dispose(accumulated);
    accumulated = merged;
  }
  return { loss, grads: accumulated! };
}
