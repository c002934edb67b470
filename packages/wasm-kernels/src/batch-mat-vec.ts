import { tf } from '@l2o/core/portable';
import { heapOffset, wasmBackend } from './tfjs-internals.js';
import { l2oKernelActive, wasmModuleOn } from './wasm-kernel.js';
import { matvecWasm } from './wasm-modules.generated.js';

// Batched matrix-vector products (matvec.wat): the A·x and Aᵀ·r of the composite problems, and
// the Gram matrices of their power iteration.

const KERNEL_NAME = 'L2oBatchMatVec';

interface MatVecExports {
  matvec: (A: number, x: number, out: number, batch: number, m: number, n: number) => void;
  matvecT: (A: number, r: number, out: number, batch: number, m: number, n: number) => void;
  normalResidual: (A: number, x: number, y: number, out: number, batch: number, m: number, n: number) => void;
}
const matVecOn = (backend: unknown) => wasmModuleOn<MatVecExports>(backend, matvecWasm);

function runMatVec({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { A, v } = inputs as { A: tf.TensorInfo; v: tf.TensorInfo };
  const transposeA = Boolean((attrs as { transposeA?: boolean }).transposeA);
  const b = wasmBackend(backend);
  const [batch, m, n] = A.shape as [number, number, number];
  const out = b.makeOutput(transposeA ? [batch, n] : [batch, m], 'float32');
  const kernel = matVecOn(backend)!;
  (transposeA ? kernel.matvecT : kernel.matvec)(heapOffset(b, A), heapOffset(b, v), heapOffset(b, out), batch, m, n);
  return out;
}

// Two registrations of one kernel, differing in what the tape keeps: tfjs copies every input it
// saves for the backward pass, and a problem batch's A (0.5 MB per instance at 250×500, used
// twice per iteration) is data that outlives the gradient, so the constant-A form keeps a
// reference to it instead (and takes no gradient for it).
const CONSTANT_A_KERNEL_NAME = 'L2oBatchMatVecConstantA';
for (const kernelName of [KERNEL_NAME, CONSTANT_A_KERNEL_NAME]) {
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: runMatVec });
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
  kernelFunc: ({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
    const { A } = inputs as { A: tf.TensorInfo };
    const b = wasmBackend(backend);
    const [batch, m, n] = A.shape as [number, number, number];
    const out = b.makeOutput([batch, m, m], 'float32');
    const a0 = heapOffset(b, A);
    const g0 = heapOffset(b, out);
    const { matvec } = matVecOn(backend)!;
    for (let i = 0; i < batch; i++) {
      const a = a0 + i * m * n * 4;
      const g = g0 + i * m * m * 4;
      for (let k = 0; k < m; k++) matvec(a, a + k * n * 4, g + k * m * 4, 1, m, n);
    }
    return out;
  },
});

/**
 * The Gram matrix of every instance: A·Aᵀ [B, m, m] of A [B, m, n], or with `columns` Aᵀ·A
 * [B, n, n]. Not differentiable.
 */
export function batchGram(A: tf.Tensor3D, columns = false): tf.Tensor3D {
  if (A.size > 0 && A.dtype === 'float32' && l2oKernelActive(matvecWasm)) {
    if (!columns) return tf.engine().runKernel<tf.Tensor3D>(GRAM_KERNEL_NAME, { A }, {});
    return tf.tidy(() => tf.engine().runKernel<tf.Tensor3D>(GRAM_KERNEL_NAME, { A: tf.transpose(A, [0, 2, 1]) }, {}));
  }
  return columns ? tf.matMul(A, A, true, false) : tf.matMul(A, A, false, true);
}

/**
 * A·v (or Aᵀ·v with `transposeA`) for every instance of a batch: A [B, m, n], v [B, n] (or [B, m])
 * → [B, m] (or [B, n]). Differentiable in both arguments; with `constantA` (data such as a
 * problem's matrix, alive until any gradient through it has been taken) in v only, and the tape
 * keeps A by reference instead of a copy.
 */
export function batchMatVec(A: tf.Tensor3D, v: tf.Tensor2D, transposeA = false, options: { constantA?: boolean } = {}): tf.Tensor2D {
  // Empty operands go to tfjs (an empty sum must still write zeros, which the kernel never sees).
  if (A.size > 0 && A.dtype === 'float32' && v.dtype === 'float32' && l2oKernelActive(matvecWasm)) {
    return options.constantA
      ? tf.engine().runKernel<tf.Tensor2D>(CONSTANT_A_KERNEL_NAME, { A, v }, { transposeA, constantA: A as unknown as tf.NamedAttrMap[string] })
      : tf.engine().runKernel<tf.Tensor2D>(KERNEL_NAME, { A, v }, { transposeA });
  }
  return tf.tidy(() => tf.squeeze<tf.Tensor2D>(tf.matMul(A, tf.expandDims(v, 2), transposeA, false), [2]));
}

// Aᵀ(A x − y) in one pass over A (normalResidual in matvec.wat), for constant A and y (a problem's
// data, kept by reference as in the constant-A product). Its gradient in x is the same product
// with no y, Aᵀ(A dy): the values of the two products' gradients through the subtraction.
const NORMAL_RESIDUAL_KERNEL_NAME = 'L2oBatchNormalResidual';
tf.registerKernel({
  kernelName: NORMAL_RESIDUAL_KERNEL_NAME,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    const { x, y } = inputs as { x: tf.TensorInfo; y?: tf.TensorInfo };
    const A = (attrs as unknown as { constantA: tf.Tensor3D }).constantA;
    const b = wasmBackend(backend);
    const [batch, m, n] = A.shape;
    const out = b.makeOutput([batch, n], 'float32');
    matVecOn(backend)!.normalResidual(heapOffset(b, A), heapOffset(b, x), y ? heapOffset(b, y) : 0, heapOffset(b, out), batch, m, n);
    return out;
  },
});

tf.registerGradient({
  kernelName: NORMAL_RESIDUAL_KERNEL_NAME,
  inputsToSave: [],
  gradFunc: (dy, _saved, attrs) => {
    const A = (attrs as unknown as { constantA: tf.Tensor3D }).constantA;
    if (A.isDisposed) throw new Error('batchNormalResidual: A was disposed before the backward pass (give only data that outlives the gradient).');
    return {
      x: () => batchNormalResidual(A, dy as tf.Tensor2D),
      y: () => tf.neg(batchMatVec(A, dy as tf.Tensor2D, false, { constantA: true })),
    };
  },
});

/**
 * Aᵀ(A x − y) for every instance of a batch, the gradient of ½‖A x − y‖²: A [B, m, n], x [B, n],
 * y [B, m] (or none: Aᵀ A x) → [B, n]. A is constant data, alive until any gradient through this
 * has been taken (as batchMatVec's `constantA`); differentiable in x and y. The same values as
 * batchMatVec(A, batchMatVec(A, x) − y, true), with A read once.
 */
export function batchNormalResidual(A: tf.Tensor3D, x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D {
  if (A.size > 0 && [A, x, y ?? x].every((t) => t.dtype === 'float32') && l2oKernelActive(matvecWasm)) {
    const constantA = A as unknown as tf.NamedAttrMap[string];
    return tf.engine().runKernel<tf.Tensor2D>(NORMAL_RESIDUAL_KERNEL_NAME, y ? { x, y } : { x }, { constantA });
  }
  return tf.tidy(() => {
    const Ax = batchMatVec(A, x, false, { constantA: true });
    return batchMatVec(A, y ? tf.sub(Ax, y) : Ax, true, { constantA: true });
  });
}
