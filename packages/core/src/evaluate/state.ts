import { tf } from '../tf.js';
import type { OptimizerState } from '../contracts/optimizer.js';

function tensorsOf(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value as tf.Tensor<tf.Rank>);
  else if (Array.isArray(value)) for (const v of value) tensorsOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) tensorsOf(v, out);
  return out;
}

/**
 * Disposes the tensors of an old optimizer state that the new state does not carry over
 * (a step may pass a tensor through unchanged, e.g. a constant step size).
 */
export function disposeReplacedState(old: OptimizerState, next: OptimizerState): void {
  const kept = new Set(tensorsOf(next).map((t) => t.id));
  for (const t of tensorsOf(old)) if (!kept.has(t.id) && !t.isDisposed) t.dispose();
}

export function disposeState(state: OptimizerState): void {
  for (const t of tensorsOf(state)) if (!t.isDisposed) t.dispose();
}

/** Keeps every tensor of a state alive past the enclosing tidy / gradient scope. */
export function keepState<S extends OptimizerState>(state: S): S {
  for (const t of tensorsOf(state)) tf.keep(t);
  return state;
}
