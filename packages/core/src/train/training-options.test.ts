import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { checkWorkerCount, checkWorkersOnEngine } from './training-options.js';

describe('worker threads', () => {
  it('are refused on the GPU engine, which has one device, with the fix named', () => {
    expect(() => checkWorkersOnEngine('tensorflow-gpu', 2)).toThrow(UsageError);
    expect(() => checkWorkersOnEngine('tensorflow-gpu', 2)).toThrow(/--workers 2 starts 2 engines, but tensorflow-gpu has one device/);
    for (const [engine, workers] of [
      ['tensorflow-gpu', 1],
      ['tensorflow-gpu', undefined],
      ['wasm', 2],
      ['tensorflow', 2],
      ['cpu', 4],
    ] as const) {
      expect(() => checkWorkersOnEngine(engine, workers)).not.toThrow();
    }
  });

  it('need a micro-batch each', () => {
    expect(() => checkWorkerCount({ workers: 3, batchSize: 8, microBatch: 4 })).toThrow(
      /3 workers need at least 3 micro-batches per batch, but a batch of 8 with micro-batch 4 has 2/,
    );
    expect(() => checkWorkerCount({ workers: 2, batchSize: 8, microBatch: 4 })).not.toThrow();
  });
});
