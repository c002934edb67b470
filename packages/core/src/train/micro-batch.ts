/**
 * Automatic micro-batching: the largest number of instances per forward/backward pass that fits
 * the engine's memory, from a probe of the tape's size (one segment on 1 and on 2 instances gives
 * the bytes per instance and the fixed part) and the engine's memory limit, and no more than
 * ROWS_PER_PASS coordinate rows (past it a pass is no faster, only bigger).
 */
import { freemem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { tf } from '../tf.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { Problem } from '../contracts/problem.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';
import { disposeState } from '../evaluate/state.js';
import { Rng } from '../random/rng.js';
import { runSegment } from './segment.js';

/**
 * Runs `fn` and returns the highest number of bytes the engine held in tensors meanwhile, above
 * what it held before. tf.profile is not used: it keeps a record per kernel and takes their
 * maximum with a spread call, which overflows the call stack on a segment of this size.
 */
export async function peakTensorBytes<T>(fn: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  // The engine's state is declared in tfjs-core's typings (Engine.state), though not documented.
  const state = tf.engine().state;
  const start = state.numBytes;
  let current = start;
  let peak = start;
  // The engine adds and subtracts on this one field for every tensor it makes and frees.
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (v: number) => {
      current = v;
      if (v > peak) peak = v;
    },
  });
  try {
    const result = await fn();
    return { result, peakBytes: peak - start };
  } finally {
    Object.defineProperty(state, 'numBytes', { configurable: true, enumerable: true, writable: true, value: current });
  }
}

export interface MemoryBudget {
  /** Bytes a micro-batch's tensors may take at their peak, per engine instance (per worker on WASM). */
  bytes: number;
  /** Where the limit comes from, for the line that reports the choice. */
  source: string;
}

const GiB = 1024 ** 3;

/**
 * What one engine instance can hold. WASM: its heap is a 32-bit memory of at most 4 GiB per
 * thread; three quarters go to the tape, the rest is left to fragmentation, the kernels' own
 * buffers and everything else alive (measured with `l2o bench --model lstm --micro-batch M`:
 * lstm at 250×500 runs at M = 26, a probed peak of 3.9 GiB, and aborts at M = 32, 4.8 GiB).
 * Native CPU engines: half the free system memory, shared by the workers. GPU: half the device's
 * free memory as nvidia-smi reports it; null where nothing reports a limit.
 */
export function memoryBudget(backend: string, workers = 1): MemoryBudget | null {
  if (backend === 'wasm') return { bytes: 3 * GiB, source: 'three quarters of the 4 GiB WASM heap' };
  if (backend === 'tensorflow' && usingGpuDevice()) {
    const free = gpuFreeBytes();
    return free === null ? null : { bytes: free / 2, source: `half of the GPU's ${formatBytes(free)} free` };
  }
  if (backend === 'tensorflow' || backend === 'cpu') {
    const free = freemem();
    return { bytes: free / 2 / workers, source: `half of the ${formatBytes(free)} of free memory${workers > 1 ? `, shared by ${workers} workers` : ''}` };
  }
  return null;
}

/**
 * Whether the active backend is tfjs-node-gpu's: NodeJSKernelBackend's public `isUsingGpuDevice`,
 * read without tfjs-node's typings (it is an optional peer).
 */
const usingGpuDevice = (): boolean => Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);

/** Free memory of the first GPU in bytes, from `nvidia-smi`; null without it. */
export function gpuFreeBytes(
  run: () => string = () => execFileSync('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000 }),
): number | null {
  try {
    const mib = Number.parseFloat(run().split('\n')[0]!.trim());
    return Number.isFinite(mib) && mib > 0 ? mib * 1024 * 1024 : null;
  } catch {
    return null;
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

export interface MicroBatchChoice {
  microBatch: number;
  /** Tape bytes per instance and the part that does not grow with the batch, as probed. */
  perInstanceBytes: number;
  fixedBytes: number;
  /** The limit it was chosen within; null when the engine reports none. */
  budget: MemoryBudget | null;
  /** One line for the user: what was chosen and why. */
  reason: string;
}

/**
 * Sizes that split `batch` into the fewest parts of at most `limit` instances, made as equal as
 * possible (64 at a limit of 24: 3 parts of 22, not 24 + 24 + 16).
 */
export function balancedMicroBatch(batch: number, limit: number): number {
  const parts = Math.ceil(batch / Math.max(1, Math.min(limit, batch)));
  return Math.ceil(batch / parts);
}

/**
 * Coordinate rows (instances × n) per pass beyond which a larger micro-batch is no faster, only
 * bigger: the tfjs dispatch cost per kernel is paid once per pass, and at 8,192 rows it is spread
 * thin. Measured idle with `l2o bench --micro-batch M --repeats 2` at 250×500 on WASM (segment s /
 * peak RSS): gru M = 16 1.45 / 0.69 GB, 64 1.42 / 1.99 GB; lstm 16 2.26 / 0.78 GB, 32 2.21 / 1.28 GB
 * (smaller passes pay the dispatch more often: gru at 8 instances took 1.53 s on a busy machine where 32 took 1.26 s).
 */
export const ROWS_PER_PASS = 8192;

/**
 * The micro-batch the tape's peak fits into the budget with, from the probe's two points, and no
 * larger than `rowsCap` instances (null: no cap).
 */
export function microBatchFor(
  batch: number,
  workers: number,
  perInstanceBytes: number,
  fixedBytes: number,
  budgetBytes: number,
  rowsCap: number | null = null,
): number {
  const perWorker = Math.max(1, Math.floor(batch / workers));
  const fits = perInstanceBytes > 0 ? Math.floor((budgetBytes - fixedBytes) / perInstanceBytes) : perWorker;
  return balancedMicroBatch(batch, Math.max(1, Math.min(perWorker, fits, rowsCap ?? Infinity)));
}

/**
 * Probes one training segment (forward through `unroll` iterations and backward, no update) on
 * one and on two instances of `sample`, and picks the micro-batch for `batch` instances. The
 * model's weights and every random stream of the training are left as they were.
 */
export async function chooseMicroBatch(
  model: LearnedOptimizer,
  problem: Problem,
  sample: InstanceSet,
  options: { batch: number; unroll: number; workers?: number; budget?: MemoryBudget | null },
): Promise<MicroBatchChoice> {
  const workers = options.workers ?? 1;
  const budget = options.budget === undefined ? memoryBudget(tf.getBackend(), workers) : options.budget;
  if (!budget) {
    // Nothing to size against: the whole batch, split only so that each worker gets a part.
    const microBatch = balancedMicroBatch(options.batch, Math.max(1, Math.floor(options.batch / workers)));
    return { microBatch, perInstanceBytes: 0, fixedBytes: 0, budget: null, reason: 'the engine reports no memory limit' };
  }
  if (options.batch <= 1 || sample.count < 1) {
    return { microBatch: Math.max(1, options.batch), perInstanceBytes: 0, fixedBytes: 0, budget, reason: 'a batch of one instance' };
  }
  const peakOf = async (count: number): Promise<number> => {
    const batch = problem.toBatch(sliceInstances(sample, 0, count));
    const parts = [{ batch, weight: 1, state: tf.tidy(() => model.init(problem, batch)) }];
    try {
      const { peakBytes, result } = await peakTensorBytes(() => runSegment(model, problem, parts, 0, options.unroll, new Rng(0)));
      tf.dispose(result.grads);
      return peakBytes;
    } finally {
      disposeState(parts[0]!.state);
      problem.disposeBatch(batch);
    }
  };
  const one = await peakOf(1);
  // With a single instance to probe, all of its peak counts per instance (an overestimate).
  const two = sample.count >= 2 ? await peakOf(2) : 2 * one;
  const perInstanceBytes = Math.max(0, two - one);
  const fixedBytes = Math.max(0, one - perInstanceBytes);
  const rowsCap = Math.max(1, Math.ceil(ROWS_PER_PASS / Math.max(1, sample.n)));
  const microBatch = microBatchFor(options.batch, workers, perInstanceBytes, fixedBytes, budget.bytes, rowsCap);
  const fitting = microBatchFor(options.batch, workers, perInstanceBytes, fixedBytes, budget.bytes);
  const peak = fixedBytes + perInstanceBytes * microBatch;
  const reason =
    microBatch >= options.batch
      ? `the whole batch fits (tape ~${formatBytes(peak)}, budget ${budget.source})`
      : microBatch < fitting
        ? `${microBatch} instances × ${sample.n} coordinates per pass, at most ${ROWS_PER_PASS} rows (larger passes are no faster; tape ~${formatBytes(peak)}, ${fitting} would fit ${budget.source})`
        : `~${formatBytes(perInstanceBytes)} of tape per instance, ${formatBytes(peak)} per pass within ${budget.source}`;
  return { microBatch, perInstanceBytes, fixedBytes, budget, reason };
}
