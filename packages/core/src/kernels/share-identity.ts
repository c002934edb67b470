import { tf } from '../tf.js';
import { kernelChoice } from './wasm-kernel.js';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

const sharing = new WeakSet<tf.KernelFunc>();

/**
 * tfjs's engine keeps every tensor a gradient saves as a clone (the Identity kernel), and
 * tfjs-backend-wasm's Identity copies the buffer: on an lstm training segment, thousands of
 * copies of [rows, 4H] tensors and a share of the tape's memory. This makes the WASM Identity
 * share the buffer, reference-counted, as tfjs's CPU Identity and the WASM backend's own Reshape
 * do: tensors are immutable (no kernel writes into an input), so a clone need not be a copy.
 * Values are unchanged, bit for bit; with L2O_KERNELS=tfjs the stock copy runs.
 * Called once the WASM backend is loaded (its registration would replace one made before).
 */
export function shareIdentityOnWasm(): void {
  const stock = tf.getKernel(tf.Identity, 'wasm');
  if (!stock || sharing.has(stock.kernelFunc)) return;
  const copy = stock.kernelFunc;
  const share: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (kernelChoice() !== 'l2o' || x.dtype === 'string') return copy(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  sharing.add(share);
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: share });
}
