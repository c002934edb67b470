import { tf } from '../tf.js';
import { heapOffset, l2oKernelActive, wasmModuleOn, type WasmBackendLike } from './wasm-kernel.js';
import { matmulWasm } from './wasm-modules.generated.js';

// Batched matrix products (matmul.wat), for attention: scores q·kᵀ, softmax(scores)·v, and the
// products of their gradients. Two kernels, A·B and Aᵀ·B, each reading its operands in memory
// order; a transposed B is transposed first (tfjs's Transpose, one copy of B).

const KERNEL_NAME = 'L2oBatchMatMul';

interface MatMulExports {
  matmulNN: (A: number, B: number, C: number, batch: number, m: number, k: number, n: number) => void;
  matmulTN: (A: number, B: number, C: number, batch: number, m: number, k: number, n: number) => void;
}

tf.registerKernel({
  kernelName: KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean((attrs as { transposeA?: boolean }).transposeA);
    const wasm = backend as WasmBackendLike;
    const [batch, a1, a2] = a.shape as [number, number, number];
    const [k, n] = (b.shape as [number, number, number]).slice(1) as [number, number];
    const m = transposeA ? a2 : a1;
    const out = wasm.makeOutput([batch, m, n], 'float32');
    const kernel = wasmModuleOn<MatMulExports>(backend, matmulWasm)!;
    (transposeA ? kernel.matmulTN : kernel.matmulNN)(heapOffset(wasm, a), heapOffset(wasm, b), heapOffset(wasm, out), batch, m, k, n);
    return out;
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
