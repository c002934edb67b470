/** Small ops the models need that tfjs does not export. */
import { tf } from '@l2o/core/portable';
import { batchMatMul, l2oKernelsActive } from '@l2o/wasm-kernels';
import type { Rng } from '@l2o/core/portable';

/** What `detach` returned: the gradient reaching them is dropped, so `affine` need not compute it. */
const detached = new WeakSet<tf.Tensor>();

/**
 * The value of `x` with no gradient flowing back through it (tfjs has no stopGradient): the
 * network's inputs ∇f(y) and y are detached, so the meta-gradient flows only through the update.
 */
export function detach<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad(((input: tf.Tensor) => ({
    value: tf.clone(input),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x) as T;
  detached.add(y);
  return y;
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
  return tf.mul<T>(x, tf.tensor(mask, x.shape));
}

/**
 * dW = dyᵀ·x for a weight [out, in]: on the platform's kernels as (xᵀ·dy)ᵀ, whose Aᵀ·B product
 * reads both in memory order (four output columns at a time); else tfjs's matMul of a transposed dy.
 */
function weightGradient(dy: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  if (!l2oKernelsActive()) return tf.matMul(tf.transpose(dy), x);
  const [rows, inFeatures] = x.shape;
  const product = batchMatMul(tf.reshape(x, [1, rows, inFeatures]), tf.reshape(dy, [1, rows, dy.shape[1]]), true);
  return tf.transpose(tf.reshape<tf.Rank.R2>(product, [inFeatures, dy.shape[1]]));
}

/**
 * x Wᵀ + b with its own gradient, for a weight stored PyTorch-style as [out, in]. WASM runs
 * matMul with a transposed operand about 5× slower than a plain one, and tfjs's matMul gradient
 * uses transposed operands; here every product is plain: forward x·(Wᵀ), backward
 * dx = dy·W, dW = (dyᵀ)·x, db = Σ_rows dy (the transposes are of small or once-used tensors).
 */
const affineWithGrad = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: (t: tf.Tensor[]) => void) => {
  save([x, w]);
  // x's gradient would be dropped by detach: zeros instead of a product (tfjs asks for every input's).
  const constantX = detached.has(x);
  return {
    value: tf.fused.matMul({ a: x, b: tf.transpose(w), bias: b }),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [constantX ? tf.zerosLike(xs) : tf.matMul(dy, ws), weightGradient(dy, xs), tf.sum(dy, 0)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** x Wᵀ, the same with no bias. */
const linearWithGrad = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: (t: tf.Tensor[]) => void) => {
  save([x, w]);
  const constantX = detached.has(x);
  return {
    value: tf.matMul(x, tf.transpose(w)),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [constantX ? tf.zerosLike(xs) : tf.matMul(dy, ws), weightGradient(dy, xs)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

export function affine(x: tf.Tensor2D, weight: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (!bias) return (linearWithGrad as unknown as (...t: tf.Tensor[]) => tf.Tensor2D)(x, weight);
  return (affineWithGrad as unknown as (...t: tf.Tensor[]) => tf.Tensor2D)(x, weight, bias);
}

/**
 * tanh(x) = 2σ(2x) − 1: the same function, but WASM's sigmoid kernel is about 6× faster than
 * its tanh on the large per-coordinate tensors of a learned optimizer.
 */
export function tanh<T extends tf.Tensor>(x: T): T {
  return tf.sub<T>(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
}

/**
 * x W_kᵀ + b_k for gate k of a PyTorch RNN weight [gates·H, in] and bias [gates·H]: the gate's
 * rows are sliced from the small weight, so no wide output has to be split afterwards.
 */
export function gateProduct(x: tf.Tensor2D, weight: tf.Variable, bias: tf.Variable, k: number, H: number): tf.Tensor2D {
  const w = tf.slice(weight as tf.Tensor2D, [k * H, 0], [H, weight.shape[1]!]);
  const b = tf.slice(bias as tf.Tensor1D, [k * H], [H]);
  return affine(x, w, b);
}

/**
 * Per-coordinate features: [batch, n] tensors as the columns of a [batch·n, k] matrix (a row per
 * coordinate). Stacked on a new first axis and transposed: the same values as tf.stack on the last
 * axis, which WASM runs ~7× slower (its concat copies element by element when the inner size is 1:
 * 4.7 ms against 0.65 ms for two [64, 500]).
 */
export function coordinateFeatures(columns: tf.Tensor2D[]): tf.Tensor2D {
  const [rows, n] = columns[0]!.shape;
  return tf.reshape<tf.Rank.R2>(tf.transpose(tf.stack(columns, 0), [1, 2, 0]), [rows * n, columns.length]);
}
