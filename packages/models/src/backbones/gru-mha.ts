import { tf, UsageError } from '@l2o/core/portable';
import { Linear } from '../layers/linear.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { MultiHeadAttention, type AttentionKernel } from '../layers/multi-head-attention.js';
import { dropout } from '../ops.js';
import { enumOption, intOption, numberOption, objectOption } from '@l2o/core/portable';
import { rnnSizeOptions, type RnnSize } from '../rnn-size.js';
import type { Backbone, BackboneState, PaModelDefinition } from '../pa/backbone.js';
import type { WeightFactory } from '../weights.js';
import { recurrentBackbone, recurrentParameterCount } from './recurrent.js';

export type AttentionAxis = 'coordinates' | 'history';

/** The history axis's state: the window's outputs, and their key and value projections. */
const HISTORY_KEYS = ['history', 'historyK', 'historyV'] as const;

/**
 * What each kept key or value projection was made with (see `attendHistory`): the in-projection's
 * buffers, and the gradient recording in progress (null outside one). One made in another
 * recording, such as the previous truncated-BPTT segment's, has no gradient path into this one.
 */
const projectedWith = new WeakMap<tf.Tensor, readonly (object | null)[]>();
function recording(): object | null {
  const { gradientDepth, activeTape } = tf.engine().state;
  return gradientDepth > 0 ? activeTape : null;
}
function tagged<T extends tf.Tensor>(t: T, made: readonly (object | null)[]): T {
  projectedWith.set(t, made);
  return t;
}

export interface GruMhaOptions extends RnnSize {
  attention: { axis: AttentionAxis; heads: number; window: number; kernel: AttentionKernel };
  dropout: number;
}

/**
 * The paper's L2O-PA-MR backbone: GRU → multi-head attention over the GRU outputs → two FFN
 * blocks h ← LayerNorm(h + Dropout(ReLU(Linear(h)))), as torch_reference.py (the first block
 * reads the attention output). Attention tokens:
 * - `coordinates`: the n coordinates of one instance (relations between variables), O(n²) per
 *   instance with the softmax kernel, O(n) with `kernel: linear`;
 * - `history`: the last `window` GRU outputs of one coordinate (weighting of past iterations), the
 *   current one as the query.
 */
export function gruMhaBackbone(weights: WeightFactory, o: GruMhaOptions): Backbone {
  const H = o.hidden;
  if (H % o.attention.heads !== 0) {
    const divisors = Array.from({ length: H }, (_, i) => i + 1).filter((d) => H % d === 0);
    throw new UsageError(
      `Option 'attention.heads' of model 'gru-mha' must divide the hidden width ${H}, got ${o.attention.heads}.`,
      `Use one of ${divisors.join(', ')}.`,
    );
  }
  // The GRU part is the plain GRU backbone (same weights `rnn.*`, same state `h`).
  const gru = recurrentBackbone('GRU', weights, o);
  const mha = new MultiHeadAttention(weights.scope('mha'), H, o.attention.heads);
  const ff1 = new Linear(weights.scope('ff1'), H, H);
  const ff2 = new Linear(weights.scope('ff2'), H, H);
  const ln1 = new LayerNorm(weights.scope('ln1'), H);
  const ln2 = new LayerNorm(weights.scope('ln2'), H);
  const history = o.attention.axis === 'history';

  /**
   * Attention of h over the window of the last W outputs, the current one included (detached
   * across segments). Each output's key and value projections are made once, when it enters the
   * window, and kept beside it (historyK, historyV) while the in-projection they were made with is
   * current, within the same gradient recording; otherwise, as in a training's next segment, they
   * are made again from the outputs.
   */
  function attendHistory(h: tf.Tensor2D, state: BackboneState, W: number): { a: tf.Tensor2D; carried: Record<string, tf.Tensor[]> } {
    const [outputs, keys, values] = HISTORY_KEYS.map((k) => state[k] ?? []) as [tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[]];
    const kept = Math.min(outputs.length, W - 1);
    const pastH = outputs.slice(outputs.length - kept);
    const made = [...mha.projectionWeights(), recording()];
    const current = (t: tf.Tensor) => !t.isDisposed && projectedWith.get(t)?.every((w, i) => w === made[i]) === true;
    const reusable =
      keys.length === outputs.length &&
      values.length === outputs.length &&
      [...keys.slice(keys.length - kept), ...values.slice(values.length - kept)].every(current);
    let pastK: tf.Tensor2D[];
    let pastV: tf.Tensor2D[];
    if (reusable || kept === 0) {
      pastK = keys.slice(keys.length - kept).map((t) => tagged(tf.clone(t), made));
      pastV = values.slice(values.length - kept).map((t) => tagged(tf.clone(t), made));
    } else {
      // One product per output (not one of them stacked and unstacked: tfjs's Unpack gradient
      // fails on an output without a gradient).
      pastK = pastH.map((t) => tagged(mha.project(t, 1), made));
      pastV = pastH.map((t) => tagged(mha.project(t, 2), made));
    }
    const k = tagged(mha.project(h, 1), made);
    const v = tagged(mha.project(h, 2), made);
    const [keysW, valuesW] = [
      [...pastK, k],
      [...pastV, v],
    ];
    let a: tf.Tensor2D;
    if (o.attention.kernel === 'softmax') a = mha.attendTokens(mha.project(h, 0), keysW, valuesW);
    else {
      // [W', rows, H]: stacked on the first axis, a copy of each whole tensor (on a middle axis
      // tfjs's WASM Pack, and the Unpack of its gradient, copy row by row).
      const [K, V] = [tf.stack(keysW, 0) as tf.Tensor3D, tf.stack(valuesW, 0) as tf.Tensor3D];
      a = tf.reshape<tf.Rank.R2>(mha.attend(mha.project(tf.expandDims<tf.Tensor3D>(h, 1), 0), K, V, 'linear', true), [-1, H]);
    }
    return { a, carried: { history: [...pastH.map((t) => tf.clone(t)), h], historyK: keysW, historyV: valuesW } };
  }
  return {
    outputSize: H,
    stateKeys: history ? [...gru.stateKeys, ...HISTORY_KEYS] : gru.stateKeys,
    initState: (rows, init, shape) => ({ ...gru.initState(rows, init, shape), ...(history ? Object.fromEntries(HISTORY_KEYS.map((k) => [k, []])) : {}) }),
    forward(input, state, ctx) {
      const out = gru.forward(input, state, ctx);
      const h = out.output; // [rows, H]
      let a: tf.Tensor2D;
      let carried: Record<string, tf.Tensor[]> = {};
      if (history) {
        ({ a, carried } = attendHistory(h, state, o.attention.window));
      } else {
        const tokens = tf.reshape<tf.Rank.R3>(h, [ctx.batch, ctx.n, H]);
        a = tf.reshape<tf.Rank.R2>(mha.apply(tokens, tokens, tokens, o.attention.kernel), [-1, H]);
      }
      const drop = (t: tf.Tensor2D) => (ctx.rng && o.dropout > 0 ? dropout(t, o.dropout, ctx.rng) : t);
      let f = ln1.apply(tf.add<tf.Tensor2D>(a, drop(tf.relu(ff1.apply(a)))));
      f = ln2.apply(tf.add<tf.Tensor2D>(f, drop(tf.relu(ff2.apply(f)))));
      return { output: f, state: { ...out.state, ...carried } };
    },
  };
}

export const gruMhaModel: PaModelDefinition<GruMhaOptions> = {
  id: 'gru-mha',
  description: 'L2O-PA-MR (the paper): GRU-16 → multi-head attention → 2 FFN blocks, PA update',
  options: {
    ...rnnSizeOptions('GRU', 16, 'GRU hidden size (= attention width)'),
    attention: objectOption(
      {
        axis: enumOption<AttentionAxis>('coordinates', ['coordinates', 'history'], "tokens: the n 'coordinates' of an instance, or a coordinate's 'history'"),
        heads: intOption(4, 'attention heads (must divide hidden)', { min: 1 }),
        window: intOption(8, "history length W for axis 'history'", { min: 1 }),
        kernel: enumOption<AttentionKernel>('softmax', ['softmax', 'linear'], "'softmax' (exact) or 'linear' (kernelised, cost linear in tokens)"),
      },
      'multi-head attention over the GRU outputs',
    ),
    dropout: numberOption(0.1, 'dropout in the FFN blocks while training', { min: 0, max: 1, exclusiveMax: true }),
  },
  backbone: gruMhaBackbone,
  backboneParameterCount: (o) =>
    recurrentParameterCount('GRU', o) +
    MultiHeadAttention.parameterCount(o.hidden) +
    2 * Linear.parameterCount(o.hidden, o.hidden) +
    2 * LayerNorm.parameterCount(o.hidden),
};
