import { tf } from '@l2o/core/portable';
import { heapOffset, wasmBackend } from './tfjs-internals.js';
import { l2oKernelActive, replaceWasmKernel, wasmModuleOn } from './wasm-kernel.js';
import { matmulWasm } from './wasm-modules.generated.js';

// Matrix products on WASM (matmul.wat): A·B (with a bias, as a fused matMul's) and Aᵀ·B, in blocks
// of C held in registers. Their sums run in the order of tfjs's own WASM products, so they replace
// those (`installMatMulKernels`) with the same values, bit for bit. `batchMatMul` below is the
// product with a gradient of plain products only, for attention and the weights' gradients.

const KERNEL_NAME = 'L2oBatchMatMul';

interface MatMulExports {
  matmulNN: (A: number, B: number, C: number, bias: number, batch: number, m: number, k: number, n: number) => void;
  matmulTN: (A: number, B: number, C: number, batch: number, m: number, k: number, n: number) => void;
}

/**
 * op(A)·B (+ bias) on the heap, op(A) = A or Aᵀ, for operands of rank ≥ 2 with equal batch sizes,
 * or null for what the kernels do not cover (a transposed B, other dtypes, empty sums, broadcast
 * batches, a bias with Aᵀ or of another length than B's rows).
 */
function productOnHeap(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, bias?: tf.TensorInfo): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = transposeA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const n = b.shape[rb - 1]!;
  if (b.shape[rb - 2] !== k || k === 0 || m === 0 || n === 0) return null;
  // Equal batches, in shapes that may differ by ones ([1, m, k] by [k, n]).
  const batch = tf.util.sizeFromShape(a.shape.slice(0, -2));
  if (tf.util.sizeFromShape(b.shape.slice(0, -2)) !== batch) return null;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (tf.util.sizeFromShape(outer) !== batch) return null;
  // tfjs's fused product (of one matrix) starts its sums from the bias, as matmulNN does.
  if (bias && (transposeA || bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return null;
  const kernel = wasmModuleOn<MatMulExports>(backend, matmulWasm);
  if (!kernel) return null;
  const wasm = wasmBackend(backend);
  const out = wasm.makeOutput([...outer, m, n], 'float32');
  const [pa, pb, pc] = [heapOffset(wasm, a), heapOffset(wasm, b), heapOffset(wasm, out)];
  if (transposeA) kernel.matmulTN(pa, pb, pc, batch, m, k, n);
  else kernel.matmulNN(pa, pb, pc, bias ? heapOffset(wasm, bias) : 0, batch, m, k, n);
  return out;
}

/** Both operands one matrix (no batch beyond 1): the products tfjs's WASM backend gives XNNPACK, whose sums run in order. */
const oneMatrix = (a: tf.TensorInfo, b: tf.TensorInfo) =>
  tf.util.sizeFromShape(a.shape.slice(0, -2)) === 1 && tf.util.sizeFromShape(b.shape.slice(0, -2)) === 1;

/**
 * tfjs's WASM BatchMatMul and _FusedMatMul (a bias, no activation) of one untransposed matrix by
 * another run on the platform's A·B kernel, with the same values bit for bit; tfjs's run every other
 * case (its Aᵀ·B, and its products of batches, sum in other orders). Called once the WASM backend is loaded.
 */
export function installMatMulKernels(): void {
  replaceWasmKernel(tf.BatchMatMul, ({ inputs, attrs, backend }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    return transposeA || transposeB || !oneMatrix(a, b) ? null : productOnHeap(backend, a, b, false);
  });
  replaceWasmKernel(tf._FusedMatMul, ({ inputs, attrs, backend }) => {
    const { a, b, bias, preluActivationWeights } = inputs as {
      a: tf.TensorInfo;
      b: tf.TensorInfo;
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const { transposeA, transposeB, activation } = attrs as unknown as tf._FusedMatMulAttrs;
    if (transposeB || transposeA || preluActivationWeights || (activation !== undefined && activation !== 'linear') || !oneMatrix(a, b)) return null;
    if (bias && bias.shape.length !== 1) return null; // tfjs's fails with its own message
    return productOnHeap(backend, a, b, false, bias);
  });
}

tf.registerKernel({
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    return productOnHeap(backend, a, b, Boolean((attrs as { transposeA?: boolean }).transposeA))!;
  },
});

tf.registerGradient({
  kernelName: KERNEL_NAME,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor3D, tf.Tensor3D];
    const g = dy as tf.Tensor3D;
    // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC.   C = Aᵀ·B: dA = B·dCᵀ, dB = A·dC.
    return (attrs as { transposeA?: boolean }).transposeA
      ? { a: () => batchMatMul(b, g, false, true), b: () => batchMatMul(a, g) }
      : { a: () => batchMatMul(g, b, false, true), b: () => batchMatMul(a, g, true, false) };
  },
});

/**
 * op(A)·op(B) for every instance of a batch (op: transposed or not), as tf.matMul on rank-3
 * tensors with equal batch sizes: A [B, m, k] (or [B, k, m]), B [B, k, n] (or [B, n, k]) → [B, m, n].
 * Differentiable in both.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA = false, transposeB = false): tf.Tensor3D {
  // The summed dimension: A [B, m, k] or transposed [B, k, m]; B [B, k, n] or transposed [B, n, k].
  const inner = (t: tf.Tensor3D, transposed: boolean, first: boolean) => t.shape[first === transposed ? 2 : 1];
  const fits =
    a.rank === 3 &&
    b.rank === 3 &&
    a.shape[0] === b.shape[0] &&
    inner(a, transposeA, false) === inner(b, transposeB, true) &&
    a.dtype === 'float32' &&
    b.dtype === 'float32';
  // Empty operands go to tfjs (an empty sum must still write zeros, which the kernel never sees).
  if (fits && a.size > 0 && b.size > 0 && l2oKernelActive(matmulWasm)) {
    if (!transposeB) return tf.engine().runKernel<tf.Tensor3D>(KERNEL_NAME, { a, b }, { transposeA });
    return tf.tidy(() => tf.engine().runKernel<tf.Tensor3D>(KERNEL_NAME, { a, b: tf.transpose(b, [0, 2, 1]) }, { transposeA }));
  }
  return tf.matMul(a, b, transposeA, transposeB);
}
