import { L2oError, tf } from '@l2o/core/portable';
import { tfjsWrittenFor } from './wasm-modules.generated.js';

// Every use of tfjs's internals (fields and methods its public API does not have) is declared
// here, and nowhere else: the platform's kernels work on tfjs-backend-wasm's heap in place and on
// tfjs-core's engine records, whose shapes a tfjs release may change without notice. So the
// kernels are installed only on the tfjs they were written for (`tfjsVersionMismatch`), and an
// upgrade fails in one line when the engine is chosen, not somewhere inside a kernel.

export type TfjsPackage = keyof typeof tfjsWrittenFor;

/** The running tfjs: tfjs-core's `version_core` and tfjs-backend-wasm's `version_wasm` (undefined where it exports none). */
export type TfjsVersions = Record<TfjsPackage, string | undefined>;

/**
 * The refusal to install the platform's kernels on a tfjs other than the one they were written
 * for (the exact versions pinned in packages/wasm-kernels/package.json, read at build time), or null when
 * `running` is that tfjs.
 */
export function tfjsVersionMismatch(running: TfjsVersions, writtenFor: Record<TfjsPackage, string> = tfjsWrittenFor): L2oError | null {
  const differing = (Object.keys(writtenFor) as TfjsPackage[]).filter((name) => running[name] !== writtenFor[name]);
  if (differing.length === 0) return null;
  const list = (f: (name: TfjsPackage) => string) => differing.map(f).join(' and ');
  return new L2oError(
    `The platform's WASM kernels were written for ${list((name) => `${name} ${writtenFor[name]}`)}` +
      `${differing.length > 1 ? ',' : ''} and this process runs ${list((name) => running[name] ?? 'an unknown version')}.`,
    `Install ${list((name) => `${name}@${writtenFor[name]}`)}, or run with L2O_KERNELS=tfjs to use tfjs's own kernels.`,
  );
}

/** The WebAssembly memory as used here (Node 20's type declarations have none). */
export interface WasmMemory {
  buffer: ArrayBufferLike;
}

/** tfjs-backend-wasm's backend as the kernels use it (its class is not exported with these fields). */
export interface WasmBackendInternals {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: object): void;
  disposeData(dataId: object): void;
}

/** A kernel's `backend` argument (or tf.findBackend('wasm')) as the WASM backend. */
export const wasmBackend = (backend: unknown): WasmBackendInternals => backend as WasmBackendInternals;

/** The WASM heap of `backend`; undefined where it is not the WASM backend. */
export const wasmHeap = (backend: unknown): WasmMemory | undefined => (backend as Partial<WasmBackendInternals> | undefined)?.wasm?.asm?.memory;

/** A tensor's byte offset in the WASM heap. */
export const heapOffset = (backend: WasmBackendInternals, t: tf.TensorInfo): number => backend.dataIdMap.get(t.dataId)!.memoryOffset;

export type Gradients = Record<string, () => tf.Tensor>;

/**
 * tfjs's engine as the platform uses it (tfjs-core's engine.ts): its tensor records, byte count
 * (micro-batch.ts's peak) and saved-tensor bookkeeping (copy-kernels.ts), and an op with its own
 * gradient and several outputs, which tf.customGrad does not allow (wasm-kernel.ts).
 */
export interface EngineInternals {
  state: { tensorInfo: Map<object, { backend: unknown }>; numBytes: number };
  keep<T extends tf.Tensor>(t: T): T;
  clone(t: tf.Tensor): tf.Tensor;
  makeTensorFromDataId(dataId: object, shape: number[], dtype: tf.DataType, backend?: unknown): tf.Tensor;
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  runKernelFunc(params: {
    inputs: tf.NamedTensorMap;
    forwardFunc: (backend: unknown, save: (tensors: tf.Tensor[]) => void) => tf.Tensor[];
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Gradients;
  }): tf.Tensor[];
}

export const engineInternals = (): EngineInternals => tf.engine() as unknown as EngineInternals;

/** Whether the active backend is tfjs-node-gpu's (its backend's flag; tfjs has no public API for it). */
export const usingGpuDevice = (): boolean => Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
