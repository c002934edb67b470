import { tf } from '@l2o/core/portable';
import { heapOffset, wasmBackend, type Gradients } from './tfjs-internals.js';
import { kernelWithSavedOutputs, l2oKernelActive, wasmModuleOn } from './wasm-kernel.js';
import { rnnGatesWasm } from './wasm-modules.generated.js';

// The LSTM and GRU cells' elementwise parts (rnn-gates.wat): gates, activations and state update
// in one pass forward and one backward, instead of some twenty tfjs kernels each with its own output.

const KERNEL_NAME = 'L2oLstmGates';
const BACKWARD_KERNEL_NAME = 'L2oLstmGatesBackward';
const GRU_KERNEL_NAME = 'L2oGruGates';
const GRU_BACKWARD_KERNEL_NAME = 'L2oGruGatesBackward';

interface RnnGatesExports {
  lstmForward: (ax: number, ah: number, bi: number, bh: number, c: number, h2: number, c2: number, act: number, rows: number, H: number) => void;
  lstmBackward: (dh: number, dc: number, act: number, c: number, c2: number, dpre: number, dcPrev: number, dbias: number, rows: number, H: number) => void;
  gruForward: (ax: number, ah: number, bi: number, bh: number, h: number, h2: number, act: number, rows: number, H: number) => void;
  gruBackward: (dh: number, act: number, h: number, dax: number, dah: number, dbi: number, dbh: number, dhPrev: number, rows: number, H: number) => void;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown };

tf.registerKernel({
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }: KernelArgs) => {
    const { ax, ah, bi, bh, c } = inputs as Record<'ax' | 'ah' | 'bi' | 'bh' | 'c', tf.TensorInfo>;
    const wasm = wasmBackend(backend);
    const [rows, H] = c.shape as [number, number];
    const h2 = wasm.makeOutput([rows, H], 'float32');
    const c2 = wasm.makeOutput([rows, H], 'float32');
    const act = wasm.makeOutput([rows, 4 * H], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    wasmModuleOn<RnnGatesExports>(backend, rnnGatesWasm)!.lstmForward(at(ax), at(ah), at(bi), at(bh), at(c), at(h2), at(c2), at(act), rows, H);
    return [h2, c2, act];
  },
});

tf.registerKernel({
  kernelName: BACKWARD_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }: KernelArgs) => {
    const { dh, dc, act, c, c2 } = inputs as Record<'dh' | 'dc' | 'act' | 'c' | 'c2', tf.TensorInfo>;
    const wasm = wasmBackend(backend);
    const [rows, H] = c.shape as [number, number];
    const dpre = wasm.makeOutput([rows, 4 * H], 'float32');
    const dcPrev = wasm.makeOutput([rows, H], 'float32');
    const dbias = wasm.makeOutput([4 * H], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    wasmModuleOn<RnnGatesExports>(backend, rnnGatesWasm)!.lstmBackward(at(dh), at(dc), at(act), at(c), at(c2), at(dpre), at(dcPrev), at(dbias), rows, H);
    return [dpre, dcPrev, dbias];
  },
});

/** The LSTM cell's backward from dh', dc' and what its forward saved: c, then its outputs h', c', act. */
function lstmGradient([dh, dc]: tf.Tensor[], [c, , c2, act]: tf.Tensor[]): Gradients {
  const [dpre, dcPrev, dbias] = tf.engine().runKernel<tf.Tensor[]>(BACKWARD_KERNEL_NAME, { dh: dh!, dc: dc!, act: act!, c: c!, c2: c2! });
  // The same gradient for both products and both biases; the second a clone (tfjs disposes each input's separately).
  return { ax: () => dpre!, ah: () => tf.clone(dpre!), bi: () => dbias!, bh: () => tf.clone(dbias!), c: () => dcPrev! };
}

/** Whether `lstmGates` and `gruGates` run as one kernel here (on the WASM engine with the platform's kernels, H a multiple of 4). */
export function rnnGatesFused(hidden: number): boolean {
  return hidden % 4 === 0 && l2oKernelActive(rnnGatesWasm);
}

/**
 * PyTorch's LSTM cell after its products, ax = x W_ihᵀ and ah = h W_hhᵀ ([rows, 4H], gates i, f, g, o):
 *   z = (ax + ah) + (b_ih + b_hh),  c' = σ(z_f) ⊙ c + σ(z_i) ⊙ tanh(z_g),  h' = σ(z_o) ⊙ tanh(c').
 * Differentiable in all five. One kernel each way where `rnnGatesFused`, else tfjs's ops.
 */
export function lstmGates(ax: tf.Tensor2D, ah: tf.Tensor2D, biasIh: tf.Tensor1D, biasHh: tf.Tensor1D, c: tf.Tensor2D): { h: tf.Tensor2D; c: tf.Tensor2D } {
  const [rows, H] = c.shape;
  const fits =
    [ax, ah].every((t) => t.shape[0] === rows && t.shape[1] === 4 * H) &&
    [biasIh, biasHh].every((b) => b.size === 4 * H) &&
    [ax, ah, biasIh, biasHh, c].every((t) => t.dtype === 'float32');
  if (fits && rows > 0 && rnnGatesFused(H)) {
    const [h2, c2] = kernelWithSavedOutputs(KERNEL_NAME, { ax, ah, bi: biasIh, bh: biasHh, c }, ['c'], 2, lstmGradient) as tf.Tensor2D[];
    return { h: h2!, c: c2! };
  }
  return tf.tidy(() => {
    const [i, f, g, o] = tf.split<tf.Tensor2D>(tf.add(tf.add(ax, ah), tf.add(biasIh, biasHh)), 4, 1);
    const c2 = tf.add<tf.Tensor2D>(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!)));
    return { h: tf.mul<tf.Tensor2D>(tf.sigmoid(o!), tf.tanh(c2)), c: c2 };
  });
}

tf.registerKernel({
  kernelName: GRU_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }: KernelArgs) => {
    const { ax, ah, bi, bh, h } = inputs as Record<'ax' | 'ah' | 'bi' | 'bh' | 'h', tf.TensorInfo>;
    const wasm = wasmBackend(backend);
    const [rows, H] = h.shape as [number, number];
    const h2 = wasm.makeOutput([rows, H], 'float32');
    const act = wasm.makeOutput([rows, 4 * H], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    wasmModuleOn<RnnGatesExports>(backend, rnnGatesWasm)!.gruForward(at(ax), at(ah), at(bi), at(bh), at(h), at(h2), at(act), rows, H);
    return [h2, act];
  },
});

tf.registerKernel({
  kernelName: GRU_BACKWARD_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }: KernelArgs) => {
    const { dh, act, h } = inputs as Record<'dh' | 'act' | 'h', tf.TensorInfo>;
    const wasm = wasmBackend(backend);
    const [rows, H] = h.shape as [number, number];
    const dax = wasm.makeOutput([rows, 3 * H], 'float32');
    const dah = wasm.makeOutput([rows, 3 * H], 'float32');
    const dbi = wasm.makeOutput([3 * H], 'float32');
    const dbh = wasm.makeOutput([3 * H], 'float32');
    const dhPrev = wasm.makeOutput([rows, H], 'float32');
    const at = (t: tf.TensorInfo) => heapOffset(wasm, t);
    wasmModuleOn<RnnGatesExports>(backend, rnnGatesWasm)!.gruBackward(at(dh), at(act), at(h), at(dax), at(dah), at(dbi), at(dbh), at(dhPrev), rows, H);
    return [dax, dah, dbi, dbh, dhPrev];
  },
});

/** The GRU cell's backward from dh' and what its forward saved: h, then its outputs h', act. */
function gruGradient([dh]: tf.Tensor[], [h, , act]: tf.Tensor[]): Gradients {
  const [dax, dah, dbi, dbh, dhPrev] = tf.engine().runKernel<tf.Tensor[]>(GRU_BACKWARD_KERNEL_NAME, { dh: dh!, act: act!, h: h! });
  return { ax: () => dax!, ah: () => dah!, bi: () => dbi!, bh: () => dbh!, h: () => dhPrev! };
}

/**
 * PyTorch's GRU cell after its products, ax = x W_ihᵀ and ah = h W_hhᵀ ([rows, 3H], gates r, z, n):
 *   r = σ(ax_r + b_ir + ah_r + b_hr),  z = σ(ax_z + b_iz + ah_z + b_hz),
 *   n = tanh(ax_n + b_in + r ⊙ (ah_n + b_hn)),  h' = n + z ⊙ (h − n).
 * Differentiable in all five. One kernel each way where `rnnGatesFused`, else tfjs's ops.
 */
export function gruGates(ax: tf.Tensor2D, ah: tf.Tensor2D, biasIh: tf.Tensor1D, biasHh: tf.Tensor1D, h: tf.Tensor2D): tf.Tensor2D {
  const [rows, H] = h.shape;
  const fits =
    [ax, ah].every((t) => t.shape[0] === rows && t.shape[1] === 3 * H) &&
    [biasIh, biasHh].every((b) => b.size === 3 * H) &&
    [ax, ah, biasIh, biasHh, h].every((t) => t.dtype === 'float32');
  if (fits && rows > 0 && rnnGatesFused(H)) {
    return kernelWithSavedOutputs(GRU_KERNEL_NAME, { ax, ah, bi: biasIh, bh: biasHh, h }, ['h'], 1, gruGradient)[0] as tf.Tensor2D;
  }
  return tf.tidy(() => {
    const [xr, xz, xn] = tf.split<tf.Tensor2D>(tf.add(ax, biasIh), 3, 1);
    const [hr, hz, hn] = tf.split<tf.Tensor2D>(tf.add(ah, biasHh), 3, 1);
    const r = tf.sigmoid(tf.add(xr!, hr!));
    const z = tf.sigmoid(tf.add(xz!, hz!));
    const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
    return tf.add<tf.Tensor2D>(n, tf.mul(z, tf.sub(h, n)));
  });
}
