import { L2oError, tf } from '@l2o/core/portable';
import { batchMatMul, coordinateAttention, historyAttention } from '@l2o/wasm-kernels';
import { constant, uniform, type WeightFactory } from '../weights.js';
import { affine } from '../ops.js';

/**
 * `softmax`: exact scaled dot-product attention, O(Lq·Lk). `linear`: kernelised attention
 * (Katharopoulos et al. 2020) with φ(u) = elu(u) + 1, φ(q)(φ(K)ᵀV) / φ(q)·Σφ(k), O(Lq + Lk): the
 * same weights, a cost linear in the number of tokens.
 */
export type AttentionKernel = 'softmax' | 'linear';

function linearAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const fq = tf.add<tf.Tensor3D>(tf.elu(q), 1);
  const fk = tf.add<tf.Tensor3D>(tf.elu(k), 1);
  const kv = batchMatMul(fk, v, true, false); // [M, d, d]
  const z = tf.sum(fk, 1, true); // [M, 1, d]
  const numerator = batchMatMul(fq, kv); // [M, Lq, d]
  const denominator = tf.sum(tf.mul(fq, z), 2, true); // [M, Lq, 1]
  return tf.div(numerator, denominator);
}

/**
 * PyTorch nn.MultiheadAttention (batch_first, no masks, no dropout on the weights):
 *   q = Q W_qᵀ + b_q, k = K W_kᵀ + b_k, v = V W_vᵀ + b_v with [W_q; W_k; W_v] = in_proj_weight
 *   [3E, E] and in_proj_bias [3E]; each of `heads` heads attends with softmax(q kᵀ/√d) v on its
 *   d = E/heads slice; the heads are concatenated and projected by out_proj (E×E + bias).
 * Initialisation as PyTorch: in_proj_weight xavier-uniform (bound √(6/(E+3E))), in_proj_bias 0,
 * out_proj.weight uniform(±1/√E), out_proj.bias 0.
 */
export class MultiHeadAttention {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable;
  readonly outProjWeight: tf.Variable;
  readonly outProjBias: tf.Variable;
  readonly headDim: number;

  constructor(
    weights: WeightFactory,
    readonly embedDim: number,
    readonly heads: number,
  ) {
    if (!Number.isInteger(heads) || heads < 1 || embedDim % heads !== 0) {
      throw new L2oError(`Multi-head attention needs the width ${embedDim} to be a multiple of the number of heads ${heads}.`);
    }
    this.headDim = embedDim / heads;
    const E = embedDim;
    this.inProjWeight = weights.create('in_proj_weight', [3 * E, E], uniform(Math.sqrt(6 / (E + 3 * E))));
    this.inProjBias = weights.create('in_proj_bias', [3 * E], constant(0));
    const out = weights.scope('out_proj');
    this.outProjWeight = out.create('weight', [E, E], uniform(1 / Math.sqrt(E)));
    this.outProjBias = out.create('bias', [E], constant(0));
  }

  static parameterCount(embedDim: number): number {
    return 4 * embedDim * embedDim + 4 * embedDim;
  }

  /** [N, L, E] → [N·heads, L, d]; with `tokensFirst`, x is [L, N, E]. */
  private splitHeads(x: tf.Tensor3D, tokensFirst = false): tf.Tensor3D {
    const [a, b] = x.shape;
    const [N, L] = tokensFirst ? [b, a] : [a, b];
    const t = tf.transpose(tf.reshape(x, [a, b, this.heads, this.headDim]), tokensFirst ? [1, 2, 0, 3] : [0, 2, 1, 3]);
    return tf.reshape(t, [N * this.heads, L, this.headDim]);
  }

  /** The query (0), key (1) or value (2) projection of x [..., E]. */
  project<T extends tf.Tensor>(x: T, part: 0 | 1 | 2): T {
    const E = this.embedDim;
    const w = tf.slice(this.inProjWeight, [part * E, 0], [E, E]);
    const b = tf.slice(this.inProjBias, [part * E], [E]);
    const flat = tf.reshape(x, [-1, E]);
    return tf.reshape(affine(flat as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), x.shape) as T;
  }

  /**
   * What projections are made with: the in-projection's buffers. A projection made earlier is
   * current while these are the same objects (tfjs gives a variable a new buffer when it is
   * assigned: an optimizer step, setWeights).
   */
  projectionWeights(): readonly object[] {
    return [this.inProjWeight.dataId, this.inProjBias.dataId];
  }

  /**
   * query [N, Lq, E], key and value [N, Lk, E] → [N, Lq, E]. With key = value = query this is
   * self-attention (the `coordinates` axis); with one query and W keys, attention over history.
   * With `tokensFirst`, key and value are [Lk, N, E]: the same attention.
   */
  apply(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D, kernel: AttentionKernel = 'softmax', tokensFirst = false): tf.Tensor3D {
    // One projection per part (no split of a [·, 3E] product: splits are slow on WASM).
    return this.attend(this.project(query, 0), this.project(key, 1), this.project(value, 2), kernel, tokensFirst);
  }

  /**
   * Softmax attention of one query per row over W tokens of that row, from the projections: q
   * [rows, E], keys and values W tensors [rows, E] → [rows, E]. The same as `attend` with the
   * tokens stacked first, without stacking them (one kernel each way on WASM).
   */
  attendTokens(q: tf.Tensor2D, keys: tf.Tensor2D[], values: tf.Tensor2D[]): tf.Tensor2D {
    return affine(historyAttention(q, keys, values, this.heads), this.outProjWeight as tf.Tensor2D, this.outProjBias as tf.Tensor1D);
  }

  /** `apply` from the projections q [N, Lq, E], k and v ([N, Lk, E], or [Lk, N, E] with `tokensFirst`). */
  attend(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, kernel: AttentionKernel = 'softmax', tokensFirst = false): tf.Tensor3D {
    const [N, Lq, E] = q.shape;
    let merged: tf.Tensor;
    if (kernel === 'softmax') {
      // The heads split, attended and merged in one kernel each way on WASM (tfjs's ops elsewhere).
      const [kb, vb] = tokensFirst ? [k, v].map((t) => tf.transpose<tf.Tensor3D>(t, [1, 0, 2])) : [k, v];
      merged = tf.reshape(coordinateAttention(q, kb!, vb!, this.heads), [N * Lq, E]);
    } else {
      const ctx = linearAttention(this.splitHeads(q), this.splitHeads(k, tokensFirst), this.splitHeads(v, tokensFirst));
      merged = tf.reshape(tf.transpose(tf.reshape(ctx, [N, this.heads, Lq, this.headDim]), [0, 2, 1, 3]), [N * Lq, E]);
    }
    const out = affine(merged as tf.Tensor2D, this.outProjWeight as tf.Tensor2D, this.outProjBias as tf.Tensor1D);
    return tf.reshape(out, [N, Lq, E]);
  }
}
