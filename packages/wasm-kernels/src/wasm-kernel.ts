import { tf, UsageError } from '@l2o/core/portable';
import { engineInternals, wasmHeap, type Gradients, type WasmMemory } from './tfjs-internals.js';
import { matmulWasm, matvecWasm, rnnGatesWasm } from './wasm-modules.generated.js';

/**
 * The platform's own kernels (this folder): on the WASM engine, small WASM SIMD modules (the .wat
 * files, assembled at build time) that work on tfjs's heap in place; on every other engine, and
 * with L2O_KERNELS=tfjs, the same operations are tfjs's own ops. They agree to float32 rounding,
 * not bit for bit (sums run in another order), so a run records which it used (`engineLabel`)
 * and L2O_KERNELS=tfjs reproduces a run made with tfjs's kernels exactly.
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

/** The WebAssembly API as used here (Node 20's type declarations have none; every engine we run on has it). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const instances = new WeakMap<Uint8Array, WeakMap<WasmMemory, unknown>>();
const valid = new WeakMap<Uint8Array, boolean>();

/**
 * A kernel module instantiated on a backend's memory (once per module and memory), or null where
 * it cannot run: no WebAssembly SIMD, not the WASM backend, or a threaded build's shared memory
 * (the module's import would have to say so).
 */
export function wasmModuleOn<T>(backend: unknown, bytes: Uint8Array): T | null {
  if (!wasmApi) return null;
  if (!valid.has(bytes)) valid.set(bytes, wasmApi.validate(bytes));
  if (!valid.get(bytes)) return null;
  const memory = wasmHeap(backend);
  if (!(memory instanceof wasmApi.Memory) || !(memory.buffer instanceof ArrayBuffer)) return null;
  let perMemory = instances.get(bytes);
  if (!perMemory) instances.set(bytes, (perMemory = new WeakMap()));
  let exports = perMemory.get(memory) as T | undefined;
  if (!exports) {
    // Each module is a few hundred bytes: synchronous compilation is allowed everywhere, a browser's main thread included.
    exports = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } }).exports as T;
    perMemory.set(memory, exports);
  }
  return exports;
}

/**
 * The platform's kernels left out for the rest of the process: the WASM engine's activation (extension.ts) calls it where the
 * running tfjs is not the one they were written for and L2O_KERNELS=tfjs (so that setting
 * L2O_KERNELS=l2o later cannot run them on it).
 */
export function leaveOutL2oKernels(): void {
  leftOut = true;
}
let leftOut = false;

/** Whether leaveOutL2oKernels was called in this process. */
export function l2oKernelsLeftOut(): boolean {
  return leftOut;
}

/** Whether the platform's kernel module `bytes` runs on the active engine (else the op falls back to tfjs's). */
export function l2oKernelActive(bytes: Uint8Array): boolean {
  return !leftOut && kernelChoice() === 'l2o' && tf.getBackend() === 'wasm' && wasmModuleOn(tf.backend(), bytes) !== null;
}

/** Whether the platform's kernels run on the active engine (else every op falls back to tfjs's). */
export function l2oKernelsActive(): boolean {
  return [matvecWasm, matmulWasm, rnnGatesWasm].every(l2oKernelActive);
}

/**
 * tfjs-backend-wasm's kernel `kernelName` replaced by `ours` where the platform's kernels run;
 * where `ours` returns null (a case it does not cover) or with L2O_KERNELS=tfjs, the stock kernel
 * runs. Called once the WASM backend is loaded (its registration would replace one made before).
 */
export function replaceWasmKernel(kernelName: string, ours: (args: Parameters<tf.KernelFunc>[0]) => ReturnType<tf.KernelFunc> | null): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock || replaced.has(stock.kernelFunc)) return;
  const kernelFunc: tf.KernelFunc = (args) => (kernelChoice() === 'l2o' ? ours(args) : null) ?? stock.kernelFunc(args);
  replaced.add(kernelFunc);
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc });
}
const replaced = new WeakSet<tf.KernelFunc>();

/**
 * A kernel as one op on the gradient tape whose outputs are the first `states` of the kernel's: the
 * rest (what its backward reads, such as a cell's activations) are saved, not output. As outputs
 * nothing uses, tfjs would give them a gradient, zeros made in a JavaScript array and copied into the
 * heap (a recurrent cell's [rows, 4H] every step). `saved`: the inputs named in `saveInputs`, then
 * every kernel output. The kernel needs a registration only for the engines it runs on.
 */
export function kernelWithSavedOutputs(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  saveInputs: string[],
  states: number,
  gradient: (dys: tf.Tensor[], saved: tf.Tensor[]) => Gradients,
  attrs: tf.NamedAttrMap = {},
): tf.Tensor[] {
  return engineInternals().runKernelFunc({
    inputs,
    forwardFunc: (_, save) => {
      const outputs = tf.engine().runKernel<tf.Tensor[]>(kernelName, inputs, attrs);
      save([...saveInputs.map((name) => inputs[name]!), ...outputs]);
      return outputs.slice(0, states);
    },
    // An output nothing used comes as zeros (tfjs fills them).
    backwardsFunc: (dy, saved) => gradient(Array.isArray(dy) ? dy : [dy], saved),
  });
}
