import { tf } from '@l2o/core/portable';
import { batchMatMul } from './batch-mat-mul.js';
import { heapOffset, wasmBackend, type WasmBackendInternals } from './tfjs-internals.js';
import { kernelWithSavedOutputs, l2oKernelActive, wasmModuleOn } from './wasm-kernel.js';
import { rnnGatesWasm } from './wasm-modules.generated.js';

// Multi-head softmax attention of every token over a set of tokens, per instance (gru-mha's
// coordinates axis: an instance's n coordinates attend to each other), in one pass each way
// (coordinateAttention in rnn-gates.wat). tfjs's ops make the [instances·heads, n, n] scores, their
// softmax and, backward, as many gradients (at LASSO 250×500, batch 64: 256 MB each); the kernel
// folds a query's scores into a running maximum, sum and output as it makes them (online softmax, as
// flash attention: 64 keys at a time, or for heads of 4 lanes key by key), and keeps only each
// query's maximum and sum for the backward, which makes the scores again.

const KERNEL_NAME = 'L2oCoordinateAttention';
const BACKWARD_KERNEL_NAME = 'L2oCoordinateAttentionBackward';

// Byte offsets, then sizes.
type Sizes = [N: number, nq: number, nk: number, heads: number, d: number, scale: number];
type ForwardArgs = [q: number, k: number, v: number, out: number, stats: number, scratch: number];
type BackwardArgs = [dout: number, q: number, k: number, v: number, out: number, stats: number, dq: number, dk: number, dv: number, scratch: number];
// The 4 variants (heads of 4 lanes: gru-mha's default) take no lane count.
type Sizes4 = [N: number, nq: number, nk: number, heads: number, scale: number];
interface AttentionExports {
  coordinateAttention: (...args: [...ForwardArgs, ...Sizes]) => void;
  coordinateAttention4: (...args: [...ForwardArgs, ...Sizes4]) => void;
  coordinateAttentionBackward: (...args: [...BackwardArgs, ...Sizes]) => void;
  coordinateAttentionBackward4: (...args: [...BackwardArgs, ...Sizes4]) => void;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** The sizes of a call: instances, queries, keys, heads, lanes a head, and the scores' scale 1/√d. */
function sizes(q: tf.TensorInfo, k: tf.TensorInfo, heads: number): Sizes {
  const [N, nq, E] = q.shape as [number, number, number];
  const d = E / heads;
  return [N, nq, k.shape[1]!, heads, d, 1 / Math.sqrt(d)];
}

/** Heap scratch of `bytes` bytes for one call (the lane layouts the kernel works in), and a call that frees it. */
function scratch(backend: WasmBackendInternals, bytes: number): [number, () => void] {
  const t = backend.makeOutput([Math.ceil(bytes / 4)], 'float32');
  return [heapOffset(backend, t), () => backend.disposeData(t.dataId)];
}

tf.registerKernel({
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
    const wasm = wasmBackend(backend);
    const { q, k, v } = inputs as Record<'q' | 'k' | 'v', tf.TensorInfo>;
    const s = sizes(q, k, (attrs as { heads: number }).heads);
    const [N, nq, nk, heads, d] = s;
    const groups = Math.ceil(heads / 4);
    const out = wasm.makeOutput(q.shape, 'float32');
    // Each query's running maximum and sum, by groups of four heads: [N, groups, nq, 2, 4].
    const stats = wasm.makeOutput([N, groups, nq, 2, 4], 'float32');
    const [pscratch, free] = scratch(wasm, (2 * nq + 2 * nk) * d * 16 + 1024);
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    const kernel = wasmModuleOn<AttentionExports>(backend, rnnGatesWasm)!;
    const args: ForwardArgs = [at(q), at(k), at(v), at(out), at(stats), pscratch];
    if (d === 4) kernel.coordinateAttention4(...args, N, nq, nk, heads, s[5]);
    else kernel.coordinateAttention(...args, ...s);
    free();
    return [out, stats];
  },
});

tf.registerKernel({
  kernelName: BACKWARD_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
    const wasm = wasmBackend(backend);
    const { dout, q, k, v, out, stats } = inputs as Record<'dout' | 'q' | 'k' | 'v' | 'out' | 'stats', tf.TensorInfo>;
    const s = sizes(q, k, (attrs as { heads: number }).heads);
    const [N, nq, nk, heads, d] = s;
    const [dq, dk, dv] = [q, k, v].map((t) => wasm.makeOutput(t.shape, 'float32'));
    // The d = 4 kernel: each query's record (q, g/l, m, D/l, its path: 176 bytes) and dq's lane layout; k and v's, dk and dv's.
    const [pscratch, free] = scratch(wasm, d === 4 ? 240 * nq + 256 * nk : (3 * nq + 4 * nk) * d * 16 + nq * 16);
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    const kernel = wasmModuleOn<AttentionExports>(backend, rnnGatesWasm)!;
    const args: BackwardArgs = [at(dout), at(q), at(k), at(v), at(out), at(stats), at(dq!), at(dk!), at(dv!), pscratch];
    if (d === 4) kernel.coordinateAttentionBackward4(...args, N, nq, nk, heads, s[5]);
    else kernel.coordinateAttentionBackward(...args, ...s);
    free();
    return [dq!, dk!, dv!];
  },
});

/** Whether `coordinateAttention` runs as one kernel each way here: on WASM with the platform's kernels. */
function fused(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number): boolean {
  const [N, nq, E] = q.shape;
  const nk = k.shape[1];
  return (
    N > 0 &&
    nq > 0 &&
    nk > 0 &&
    E % heads === 0 &&
    k.shape[0] === N &&
    k.shape[2] === E &&
    v.shape.every((s, i) => s === k.shape[i]) &&
    [q, k, v].every((t) => t.dtype === 'float32') &&
    l2oKernelActive(rnnGatesWasm)
  );
}

/**
 * Multi-head softmax attention per instance: q [N, Lq, E], k and v [N, Lk, E] (projected), E =
 * heads·d → [N, Lq, E], the heads' outputs side by side (before the output projection). Per
 * instance and head: softmax(q kᵀ/√d) v, the softmax exact. Differentiable in all. One kernel each
 * way on WASM with the platform's kernels (to float32 rounding of tfjs's ops, not bit for bit;
 * memory linear in the tokens); elsewhere, and with L2O_KERNELS=tfjs, tfjs's ops.
 */
export function coordinateAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number): tf.Tensor3D {
  if (fused(q, k, v, heads)) {
    const attrs = { heads };
    const gradient = ([dout]: tf.Tensor[], saved: tf.Tensor[]) => {
      // saved: q, k, v, then the outputs (out, stats).
      const [sq, sk, sv, out, stats] = saved;
      const [dq, dk, dv] = tf.engine().runKernel<tf.Tensor[]>(BACKWARD_KERNEL_NAME, { dout: dout!, q: sq!, k: sk!, v: sv!, out: out!, stats: stats! }, attrs);
      return { q: () => dq!, k: () => dk!, v: () => dv! };
    };
    return kernelWithSavedOutputs(KERNEL_NAME, { q, k, v }, ['q', 'k', 'v'], 1, gradient, attrs)[0] as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const [N, Lq, E] = q.shape;
    const d = E / heads;
    // [N, L, E] → [N·heads, L, d] and back.
    const split = (x: tf.Tensor3D) => tf.reshape<tf.Rank.R3>(tf.transpose(tf.reshape(x, [N, x.shape[1], heads, d]), [0, 2, 1, 3]), [N * heads, x.shape[1], d]);
    const scores = tf.mul(batchMatMul(split(q), split(k), false, true), 1 / Math.sqrt(d));
    const ctx = batchMatMul(tf.softmax(scores, -1) as tf.Tensor3D, split(v));
    return tf.reshape<tf.Rank.R3>(tf.transpose(tf.reshape(ctx, [N, heads, Lq, d]), [0, 2, 1, 3]), [N, Lq, E]);
  });
}
