import { tf } from '@l2o/core/portable';
import { engineInternals, wasmBackend, type WasmBackendInternals } from './tfjs-internals.js';
import { kernelChoice, replaceWasmKernel } from './wasm-kernel.js';

// tfjs-backend-wasm's kernels that only copy, made cheap on WASM with the platform's kernels
// (values unchanged, bit for bit; with L2O_KERNELS=tfjs the stock kernels run):
// - Identity copies its input; tfjs's engine calls it for every tensor a gradient saves (a clone).
//   Here it shares the buffer, reference-counted, as tfjs's CPU Identity and the WASM backend's own
//   Reshape do: tensors are immutable (no kernel writes into an input), so a clone need not be a copy.
// - Slice reads its whole input out of the heap (a copy) before copying the slice, and Unpack
//   slices once per output: unstacking an [8, 4000, 16] tensor copied 8 × 2 MB to return 2 MB.
//   Here both copy from a view of the heap.
// - The tensors a gradient saves: the engine clones each (an Identity kernel call, dispatched, and a
//   tape node of its own that no gradient ever visits), some 70 per step of a recurrent model.
//   Here a saved tensor is a second handle on the same buffer, made without either.

/**
 * x[begin : begin + size] into a new tensor, read from a view of the heap. The output is made
 * first: making it may grow the heap, which detaches every view taken before.
 */
function sliceOnHeap(backend: WasmBackendInternals, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const count = tf.util.sizeFromShape(size);
  if (count === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // The contiguous run: the trailing dimensions taken whole, and the one before them in part.
  const rank = x.shape.length;
  let d = rank - 1;
  let run = 1;
  while (d >= 0 && size[d] === x.shape[d]) run *= size[d--]!;
  if (d >= 0) run *= size[d]!;
  let start = 0;
  for (let i = 0; i < rank; i++) start += begin[i]! * strides[i]!;
  // An odometer over the dimensions before the run (0 … d − 1).
  const index = new Array<number>(Math.max(d, 0)).fill(0);
  for (let written = 0, from = start; written < count; written += run) {
    if (run >= 16) dst.set(src.subarray(from, from + run), written);
    else for (let k = 0; k < run; k++) dst[written + k] = src[from + k]!;
    for (let i = d - 1; i >= 0; i--) {
      from += strides[i]!;
      if (++index[i]! < size[i]!) break;
      from -= size[i]! * strides[i]!;
      index[i] = 0;
    }
  }
  return out;
}

const onHeap = (x: tf.TensorInfo) => x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool';

/** The engine keeps a gradient's saved tensors as handles on their buffers (WASM tensors, the platform's kernels). */
function shareSavedTensors(): void {
  const engine = engineInternals();
  if (sharing.has(engine)) return;
  sharing.add(engine);
  const stock = engine.saveTensorsForBackwardMode.bind(engine);
  const wasm = tf.findBackend('wasm');
  engine.saveTensorsForBackwardMode = (tensors) => {
    if (kernelChoice() !== 'l2o') return stock(tensors);
    return tensors.map((t) => {
      const backend = engine.state.tensorInfo.get(t.dataId)?.backend;
      if (backend !== wasm || !wasm || !onHeap(t)) return engine.keep(engine.clone(t));
      wasmBackend(wasm).incRef(t.dataId);
      return engine.keep(engine.makeTensorFromDataId(t.dataId, t.shape, t.dtype, wasm));
    });
  };
}
const sharing = new WeakSet<object>();

/** Makes the WASM engine's copying kernels cheap. Called once the WASM backend is loaded (its registration would replace one made before). */
export function installCopyKernels(): void {
  shareSavedTensors();
  replaceWasmKernel(tf.Identity, ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return null;
    wasmBackend(backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  replaceWasmKernel(tf.Slice, ({ inputs, attrs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    if (!onHeap(x)) return null;
    const { begin, size } = attrs as unknown as tf.SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return sliceOnHeap(wasmBackend(backend), x, b, s);
  });
  replaceWasmKernel(tf.Unpack, ({ inputs, attrs, backend }) => {
    const value = inputs.value as tf.TensorInfo;
    if (!onHeap(value)) return null;
    const rank = value.shape.length;
    const axis = ((attrs as unknown as tf.UnpackAttrs).axis + rank) % rank;
    const shape = value.shape.filter((_, i) => i !== axis);
    return Array.from({ length: value.shape[axis]! }, (_, i) => {
      const begin = value.shape.map((_, j) => (j === axis ? i : 0));
      const size = value.shape.map((n, j) => (j === axis ? 1 : n));
      return { ...sliceOnHeap(wasmBackend(backend), value, begin, size), shape };
    });
  });
}
