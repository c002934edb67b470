import { throwIfInterrupted } from '../errors.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';

export interface BatchLoopOptions {
  batchSize: number;
  /** Checked before every batch: stops with InterruptedError. */
  signal?: AbortSignal;
  /** Called after each batch is disposed of, with the instances done so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs `each` on a set batch by batch (the reference solve and `solve` share this loop): one batch
 * on the engine at a time, disposed of even when `each` throws.
 */
export async function forEachBatch(
  problem: Problem,
  set: InstanceSet,
  options: BatchLoopOptions,
  each: (batch: ProblemBatch, start: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < set.count; start += options.batchSize) {
    throwIfInterrupted(options.signal);
    const batch = problem.toBatch(sliceInstances(set, start, options.batchSize));
    try {
      await each(batch, start);
    } finally {
      problem.disposeBatch(batch);
    }
    options.onProgress?.(Math.min(set.count, start + options.batchSize), set.count);
  }
}
