import { UsageError } from '../errors.js';
import { tf } from '../tf.js';
import { matvecWasm } from './wasm-modules.generated.js';

/**
 * The platform's own kernels: on the WASM engine, batched matrix-vector products run by a small
 * WASM SIMD module that works on tfjs's heap in place (src/kernels/matvec.wat); on every other
 * engine, and with L2O_KERNELS=tfjs, the same products are tfjs's own matMul. They agree to
 * float32 rounding, not bit for bit (the sums run in another order), so a run records which it
 * used (`engineLabel`) and L2O_KERNELS=tfjs reproduces a run made with tfjs's kernels exactly.
 */
export const KERNEL_CHOICES = ['l2o', 'tfjs'] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

/** L2O_KERNELS: 'l2o' (default) or 'tfjs'. Read on every call (tests and workers set it). */
export function kernelChoice(): KernelChoice {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.L2O_KERNELS;
  if (raw === undefined || raw === '') return 'l2o';
  if ((KERNEL_CHOICES as readonly string[]).includes(raw)) return raw as KernelChoice;
  throw new UsageError(`L2O_KERNELS is '${raw}'.`, `Set it to ${KERNEL_CHOICES.map((c) => `'${c}'`).join(' or ')}, or unset it.`);
}

const KERNEL_NAME = 'L2oBatchMatVec';

/** The WebAssembly API as used here (Node 20's type declarations have none; every engine we run on has it). */
interface WasmMemory {
  buffer: ArrayBufferLike;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** The parts of tfjs-backend-wasm's backend this kernel touches (its class is not exported with these fields). */
interface WasmBackendLike {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

interface MatVecExports {
  matvec: (A: number, x: number, out: number, batch: number, m: number, n: number) => void;
  matvecT: (A: number, r: number, out: number, batch: number, m: number, n: number) => void;
}

const simd = wasmApi !== undefined && wasmApi.validate(matvecWasm);
const instances = new WeakMap<WasmMemory, MatVecExports>();

/** The module instantiated on this backend's memory, or null where it cannot run (no SIMD, a shared memory). */
function matVecOn(backend: unknown): MatVecExports | null {
  if (!simd || !wasmApi) return null;
  const memory = (backend as Partial<WasmBackendLike>).wasm?.asm?.memory;
  // A threaded build's memory is shared, and the module's import would have to say so: leave it to tfjs.
  if (!(memory instanceof wasmApi.Memory) || !(memory.buffer instanceof ArrayBuffer)) return null;
  let exports = instances.get(memory);
  if (!exports) {
    // 573 bytes: synchronous compilation is allowed everywhere, a browser's main thread included.
    const instance = new wasmApi.Instance(new wasmApi.Module(matvecWasm), { env: { memory } });
    exports = instance.exports as MatVecExports;
    instances.set(memory, exports);
  }
  return exports;
}

function runMatVec({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { A, v } = inputs as { A: tf.TensorInfo; v: tf.TensorInfo };
  const transposeA = Boolean((attrs as { transposeA?: boolean }).transposeA);
  const b = backend as WasmBackendLike;
  const [batch, m, n] = A.shape as [number, number, number];
  const out = b.makeOutput(transposeA ? [batch, n] : [batch, m], 'float32');
  const offset = (t: tf.TensorInfo) => b.dataIdMap.get(t.dataId)!.memoryOffset;
  const kernel = matVecOn(backend)!;
  (transposeA ? kernel.matvecT : kernel.matvec)(offset(A), offset(v), offset(out), batch, m, n);
  return out;
}

// Two registrations of one kernel, differing in what the tape keeps: tfjs copies every input it
// saves for the backward pass, and a problem batch's A (0.5 MB per instance at 250×500, used
// twice per iteration) is data that outlives the gradient, so the constant-A form keeps a
// reference to it instead (and takes no gradient for it).
const CONSTANT_A_KERNEL_NAME = 'L2oBatchMatVecConstantA';
for (const kernelName of [KERNEL_NAME, CONSTANT_A_KERNEL_NAME]) {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: runMatVec as unknown as tf.KernelFunc });
}

tf.registerGradient({
  kernelName: KERNEL_NAME,
  inputsToSave: ['A', 'v'],
  gradFunc: (dy, saved, attrs) => {
    const [A, v] = saved as [tf.Tensor3D, tf.Tensor2D];
    const g = dy as tf.Tensor2D;
    const transposeA = Boolean((attrs as { transposeA?: boolean }).transposeA);
    // y = A v: dA = dy vᵀ, dv = Aᵀ dy.   y = Aᵀ v: dA = v dyᵀ, dv = A dy.
    return {
      A: () => (transposeA ? tf.mul(tf.expandDims(v, 2), tf.expandDims(g, 1)) : tf.mul(tf.expandDims(g, 2), tf.expandDims(v, 1))),
      v: () => batchMatVec(A, g, !transposeA),
    };
  },
});

tf.registerGradient({
  kernelName: CONSTANT_A_KERNEL_NAME,
  inputsToSave: [],
  gradFunc: (dy, _saved, attrs) => {
    const { transposeA, constantA } = attrs as unknown as { transposeA: boolean; constantA: tf.Tensor3D };
    if (constantA.isDisposed) {
      throw new Error('batchMatVec: a constant A was disposed before the backward pass (give constantA only for data that outlives the gradient).');
    }
    return { v: () => batchMatVec(constantA, dy as tf.Tensor2D, !transposeA, { constantA: true }) };
  },
});

// The Gram matrix of each instance's rows, a row at a time: G[b, k, :] = A_b · A_b[k] is one
// matrix-vector product over A_b (kept in cache across its rows), written where row k of the
// symmetric G goes. No gradient: it feeds step sizes, never a training loss.
const GRAM_KERNEL_NAME = 'L2oBatchGram';
tf.registerKernel({
  kernelName: GRAM_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
    const { A } = inputs as { A: tf.TensorInfo };
    const b = backend as WasmBackendLike;
    const [batch, m, n] = A.shape as [number, number, number];
    const out = b.makeOutput([batch, m, m], 'float32');
    const a0 = b.dataIdMap.get(A.dataId)!.memoryOffset;
    const g0 = b.dataIdMap.get(out.dataId)!.memoryOffset;
    const { matvec } = matVecOn(backend)!;
    for (let i = 0; i < batch; i++) {
      const a = a0 + i * m * n * 4;
      const g = g0 + i * m * m * 4;
      for (let k = 0; k < m; k++) matvec(a, a + k * n * 4, g + k * m * 4, 1, m, n);
    }
    return out;
  }) as unknown as tf.KernelFunc,
});

/**
 * The Gram matrix of every instance: A·Aᵀ [B, m, m] of A [B, m, n], or with `columns` Aᵀ·A
 * [B, n, n]. Not differentiable.
 */
export function batchGram(A: tf.Tensor3D, columns = false): tf.Tensor3D {
  if (A.size > 0 && A.dtype === 'float32' && l2oKernelsActive()) {
    if (!columns) return tf.engine().runKernel<tf.Tensor3D>(GRAM_KERNEL_NAME, { A }, {});
    return tf.tidy(() => tf.engine().runKernel<tf.Tensor3D>(GRAM_KERNEL_NAME, { A: tf.transpose(A, [0, 2, 1]) }, {}));
  }
  return columns ? tf.matMul(A, A, true, false) : tf.matMul(A, A, false, true);
}

/** Whether batchMatVec runs the platform's kernel on the active engine (else tfjs's matMul). */
export function l2oKernelsActive(): boolean {
  return kernelChoice() === 'l2o' && tf.getBackend() === 'wasm' && matVecOn(tf.backend()) !== null;
}

/**
 * A·v (or Aᵀ·v with `transposeA`) for every instance of a batch: A [B, m, n], v [B, n] (or [B, m])
 * → [B, m] (or [B, n]). Differentiable in both arguments; with `constantA` (data such as a
 * problem's matrix, alive until any gradient through it has been taken) in v only, and the tape
 * keeps A by reference instead of a copy.
 */
export function batchMatVec(A: tf.Tensor3D, v: tf.Tensor2D, transposeA = false, options: { constantA?: boolean } = {}): tf.Tensor2D {
  // Empty operands go to tfjs (an empty sum must still write zeros, which the kernel never sees).
  if (A.size > 0 && A.dtype === 'float32' && v.dtype === 'float32' && l2oKernelsActive()) {
    return options.constantA
      ? tf.engine().runKernel<tf.Tensor2D>(CONSTANT_A_KERNEL_NAME, { A, v }, { transposeA, constantA: A as unknown as tf.NamedAttrMap[string] })
      : tf.engine().runKernel<tf.Tensor2D>(KERNEL_NAME, { A, v }, { transposeA });
  }
  return tf.tidy(() => tf.squeeze<tf.Tensor2D>(tf.matMul(A, tf.expandDims(v, 2), transposeA, false), [2]));
}

/** The engine as a run records it: its name, with '+l2o-kernels' when the platform's kernels ran on it. */
export function engineLabel(engine: string): string {
  return engine === 'wasm' && l2oKernelsActive() ? 'wasm+l2o-kernels' : engine;
}
