/** Small ops the models need that tfjs does not export. */
import { tf } from '@l2o/core';
import type { Rng } from '@l2o/core';

/**
 * The value of `x` with no gradient flowing back through it (tfjs has no stopGradient): the
 * network's inputs ∇f(y) and y are detached, so the meta-gradient flows only through the update.
 */
export function detach<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad(((input: tf.Tensor) => ({
    value: tf.clone(input),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

/**
 * Inverted dropout with a mask drawn from the platform RNG (one 32-bit draw per entry), so a
 * seed gives the same masks on every engine. Entries are zeroed with probability `rate` and the
 * others scaled by 1/(1 − rate), as in PyTorch's nn.Dropout in training mode.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng): T {
  if (rate <= 0) return x;
  const keep = 1 / (1 - rate);
  const threshold = rate * 4294967296;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.nextUint32() >= threshold ? keep : 0;
  return tf.mul(x, tf.tensor(mask, x.shape)) as T;
}
