import { tf } from '@l2o/core/portable';
import { batchMatMul } from './batch-mat-mul.js';
import { heapOffset, wasmBackend, type Gradients, type WasmBackendInternals } from './tfjs-internals.js';
import { kernelWithSavedOutputs, l2oKernelActive, wasmModuleOn } from './wasm-kernel.js';
import { rnnGatesWasm } from './wasm-modules.generated.js';

// Softmax attention of one query per row over a few tokens (gru-mha's history axis: a coordinate's
// last W outputs), head by head, in one pass each way (historyAttention in rnn-gates.wat). tfjs's
// ops stack the tokens and transpose [W, rows, heads, d] tensors to and from [rows·heads, W, d],
// which took most of the attention's time; the kernel reads each token where it is.

const KERNEL_NAME = 'L2oHistoryAttention';
const BACKWARD_KERNEL_NAME = 'L2oHistoryAttentionBackward';

// Byte offsets and sizes; the 4 variants (heads of 4 lanes, 4 at a time) take no lane count.
type ForwardArgs = [q: number, K: number, V: number, out: number, probs: number, rows: number, W: number, heads: number];
type BackwardArgs = [dout: number, q: number, K: number, V: number, probs: number, dq: number, dK: number, dV: number, rows: number, W: number, heads: number];
interface AttentionExports {
  historyAttention: (...args: [...ForwardArgs, quads: number, scale: number]) => void;
  historyAttention4: (...args: [...ForwardArgs, scale: number]) => void;
  historyAttentionBackward: (...args: [...BackwardArgs, quads: number, scale: number]) => void;
  historyAttentionBackward4: (...args: [...BackwardArgs, scale: number]) => void;
}

/** Heads of 4 lanes, 4 at a time (the heads in the lanes: gru-mha's default, 16 wide in 4 heads): the same sums, in the same order. */
const fourByFour = (heads: number, d: number) => d === 4 && heads % 4 === 0;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
const keyName = (w: number) => `k${w}`;
const valueName = (w: number) => `v${w}`;

/** The tensors' heap offsets as an int32 array in the heap (the kernels' lists of tokens), and a call that frees it. */
function offsetList(backend: WasmBackendInternals, tensors: tf.TensorInfo[]): [number, () => void] {
  const list = backend.makeOutput([tensors.length], 'int32');
  // Offsets read before the list's view: making a tensor may grow the heap, which detaches views.
  const offsets = tensors.map((t) => heapOffset(backend, t));
  backend.typedArrayFromHeap(list).set(offsets);
  return [heapOffset(backend, list), () => backend.disposeData(list.dataId)];
}

/** The offset lists of a call's keys and values (inputs k0…, v0…), and a call that frees both. */
function tokenLists(backend: WasmBackendInternals, inputs: tf.NamedTensorInfoMap, tokens: number): [number, number, () => void] {
  const [K, freeK] = offsetList(
    backend,
    Array.from({ length: tokens }, (_, w) => inputs[keyName(w)]!),
  );
  const [V, freeV] = offsetList(
    backend,
    Array.from({ length: tokens }, (_, w) => inputs[valueName(w)]!),
  );
  return [
    K,
    V,
    () => {
      freeK();
      freeV();
    },
  ];
}

tf.registerKernel({
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
    const { heads, tokens } = attrs as unknown as { heads: number; tokens: number };
    const wasm = wasmBackend(backend);
    const q = inputs.q as tf.TensorInfo;
    const [rows, E] = q.shape as [number, number];
    const out = wasm.makeOutput([rows, E], 'float32');
    const probs = wasm.makeOutput([rows, heads, tokens], 'float32');
    const [K, V, freeTokens] = tokenLists(wasm, inputs, tokens);
    const d = E / heads;
    const kernel = wasmModuleOn<AttentionExports>(backend, rnnGatesWasm)!;
    const [pq, pout, pprobs] = [heapOffset(wasm, q), heapOffset(wasm, out), heapOffset(wasm, probs)];
    if (fourByFour(heads, d)) kernel.historyAttention4(pq, K, V, pout, pprobs, rows, tokens, heads, 1 / Math.sqrt(d));
    else kernel.historyAttention(pq, K, V, pout, pprobs, rows, tokens, heads, d / 4, 1 / Math.sqrt(d));
    freeTokens();
    return [out, probs];
  },
});

tf.registerKernel({
  kernelName: BACKWARD_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
    const { heads, tokens } = attrs as unknown as { heads: number; tokens: number };
    const wasm = wasmBackend(backend);
    const { dout, q, probs } = inputs as Record<'dout' | 'q' | 'probs', tf.TensorInfo>;
    const [rows, E] = q.shape as [number, number];
    const dq = wasm.makeOutput([rows, E], 'float32');
    const dK = Array.from({ length: tokens }, () => wasm.makeOutput([rows, E], 'float32'));
    const dV = Array.from({ length: tokens }, () => wasm.makeOutput([rows, E], 'float32'));
    const [K, V, freeTokens] = tokenLists(wasm, inputs, tokens);
    const [pdK, freeDK] = offsetList(wasm, dK);
    const [pdV, freeDV] = offsetList(wasm, dV);
    const d = E / heads;
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    const kernel = wasmModuleOn<AttentionExports>(backend, rnnGatesWasm)!;
    if (fourByFour(heads, d)) kernel.historyAttentionBackward4(at(dout), at(q), K, V, at(probs), at(dq), pdK, pdV, rows, tokens, heads, 1 / Math.sqrt(d));
    else kernel.historyAttentionBackward(at(dout), at(q), K, V, at(probs), at(dq), pdK, pdV, rows, tokens, heads, d / 4, 1 / Math.sqrt(d));
    [freeTokens, freeDK, freeDV].forEach((free) => free());
    return [dq, ...dK, ...dV];
  },
});

/** Whether `historyAttention` runs as one kernel each way here: on WASM with the platform's kernels, heads of a multiple of 4 lanes. */
function fused(q: tf.Tensor2D, keys: tf.Tensor2D[], values: tf.Tensor2D[], heads: number): boolean {
  const [rows, E] = q.shape;
  return (
    rows > 0 &&
    keys.length > 0 &&
    keys.length === values.length &&
    E % heads === 0 &&
    (E / heads) % 4 === 0 &&
    [q, ...keys, ...values].every((t) => t.dtype === 'float32' && t.shape[0] === rows && t.shape[1] === E) &&
    l2oKernelActive(rnnGatesWasm)
  );
}

/**
 * Multi-head softmax attention of one query per row over W tokens: q [rows, E] (projected), keys
 * and values W tensors [rows, E] (projected), E = heads·d → [rows, E], the heads' outputs side by
 * side (before the output projection). Per row and head: softmax(q·k_w/√d) weighted v_w.
 * Differentiable in all. One kernel each way on WASM with the platform's kernels (to float32
 * rounding of tfjs's ops, not bit for bit); elsewhere tfjs's ops.
 */
export function historyAttention(q: tf.Tensor2D, keys: tf.Tensor2D[], values: tf.Tensor2D[], heads: number): tf.Tensor2D {
  const W = keys.length;
  if (fused(q, keys, values, heads)) {
    const inputs: tf.NamedTensorMap = { q };
    keys.forEach((k, w) => (inputs[keyName(w)] = k));
    values.forEach((v, w) => (inputs[valueName(w)] = v));
    const attrs = { heads, tokens: W };
    const gradient = ([dout]: tf.Tensor[], saved: tf.Tensor[]): Gradients => {
      // saved: q, the keys, the values, then the outputs (out, probs).
      const named: tf.NamedTensorMap = { dout: dout!, q: saved[0]!, probs: saved[2 * W + 2]! };
      for (let w = 0; w < W; w++) {
        named[keyName(w)] = saved[1 + w]!;
        named[valueName(w)] = saved[1 + W + w]!;
      }
      const [dq, ...rest] = tf.engine().runKernel<tf.Tensor[]>(BACKWARD_KERNEL_NAME, named, attrs);
      const grads: Gradients = { q: () => dq! };
      for (let w = 0; w < W; w++) {
        grads[keyName(w)] = () => rest[w]!;
        grads[valueName(w)] = () => rest[W + w]!;
      }
      return grads;
    };
    const saveInputs = ['q', ...keys.map((_, w) => keyName(w)), ...values.map((_, w) => valueName(w))];
    return kernelWithSavedOutputs(KERNEL_NAME, inputs, saveInputs, 1, gradient, attrs)[0] as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const [rows, E] = q.shape;
    const d = E / heads;
    // [W, rows, E] → [rows·heads, W, d]; the query [rows·heads, 1, d].
    const split = (tokens: tf.Tensor2D[]) =>
      tf.reshape<tf.Rank.R3>(tf.transpose(tf.reshape(tf.stack(tokens, 0), [W, rows, heads, d]), [1, 2, 0, 3]), [rows * heads, W, d]);
    const scores = tf.mul(batchMatMul(tf.reshape<tf.Rank.R3>(q, [rows * heads, 1, d]), split(keys), false, true), 1 / Math.sqrt(d));
    return tf.reshape<tf.Rank.R2>(batchMatMul(tf.softmax(scores, -1) as tf.Tensor3D, split(values)), [rows, E]);
  });
}
