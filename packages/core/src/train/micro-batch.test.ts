import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { TINY_TRAINING, TinyLearned, tinyLasso, tinyLassoSet, tinyTrainInstances, tinyValidationSet } from '../test-utils/tiny.js';
import { balancedMicroBatch, chooseMicroBatch, gpuFreeBytes, memoryBudget, microBatchFor, peakTensorBytes, ROWS_PER_PASS } from './micro-batch.js';
import { trainLearnedOptimizer, type TrainProgress } from './trainer.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

describe('peak tensor bytes', () => {
  it('is the high-water mark of the bytes held, above the start', async () => {
    const before = tf.zeros([1000]); // held throughout, not counted
    const { peakBytes, result } = await peakTensorBytes(async () => {
      const a = tf.zeros([250]); // 1000 B
      const b = tf.zeros([250]); // 2000 B held
      a.dispose(); // 1000 B
      const c = tf.zeros([500]); // 3000 B: the peak
      b.dispose();
      c.dispose();
      return 7;
    });
    expect(result).toBe(7);
    expect(peakBytes).toBe(3000);
    // The engine's counter is a plain field again and still right.
    const state = (tf.engine() as unknown as { state: { numBytes: number } }).state;
    expect(Object.getOwnPropertyDescriptor(state, 'numBytes')?.writable).toBe(true);
    const held = tf.memory().numBytes;
    const d = tf.zeros([10]);
    expect(tf.memory().numBytes).toBe(held + 40);
    tf.dispose([d, before]);
  });

  it('restores the counter when the function throws', async () => {
    const held = tf.memory().numBytes;
    let kept: tf.Tensor | undefined;
    await expect(
      peakTensorBytes(async () => {
        kept = tf.zeros([4]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.memory().numBytes).toBe(held + 16);
    kept!.dispose();
  });
});

describe('choosing the micro-batch', () => {
  it('splits a batch into the fewest, most equal parts within the limit', () => {
    expect(balancedMicroBatch(64, 24)).toBe(22); // 3 parts: 22, 22, 20
    expect(balancedMicroBatch(64, 64)).toBe(64);
    expect(balancedMicroBatch(64, 100)).toBe(64);
    expect(balancedMicroBatch(10, 3)).toBe(3); // 4 parts: 3, 3, 3, 1
    expect(balancedMicroBatch(7, 1)).toBe(1);
  });

  it('fits fixed + per-instance × micro-batch into the budget, at least one, at most batch / workers', () => {
    expect(microBatchFor(64, 1, 100, 50, 50 + 100 * 13.5)).toBe(13); // 5 parts of 13 (65 ≥ 64)
    expect(microBatchFor(64, 1, 100, 50, 1e9)).toBe(64);
    expect(microBatchFor(64, 2, 100, 50, 1e9)).toBe(32);
    expect(microBatchFor(64, 1, 100, 50, 10)).toBe(1);
    expect(microBatchFor(64, 1, 0, 50, 10)).toBe(64);
  });

  it('caps the micro-batch at the rows per pass past which it is no faster, balanced', () => {
    // 250×500 LASSO: 8,192 rows are 17 instances of 500 coordinates → 4 parts of 16.
    expect(microBatchFor(64, 1, 100, 50, 1e9, Math.ceil(ROWS_PER_PASS / 500))).toBe(16);
    // The memory limit still wins when it is the smaller.
    expect(microBatchFor(64, 1, 100, 50, 50 + 100 * 13.5, Math.ceil(ROWS_PER_PASS / 500))).toBe(13);
    // Small problems (the paper's cpu-scale trainings: 32 × 40 coordinates) keep the whole batch.
    expect(microBatchFor(32, 1, 100, 50, 1e9, Math.ceil(ROWS_PER_PASS / 40))).toBe(32);
  });

  it('has a budget on every CPU engine: 3 GiB per WASM heap, half the free memory natively', () => {
    expect(memoryBudget('wasm')!.bytes).toBe(3 * 1024 ** 3);
    // Two workers share it: half each (free memory moves between the two reads, by far less than 5%).
    const [one, two] = [memoryBudget('cpu', 1)!.bytes, memoryBudget('cpu', 2)!.bytes];
    expect(Math.abs(two / (one / 2) - 1)).toBeLessThan(0.05);
    expect(memoryBudget('webgl')).toBeNull();
  });

  it("reads a GPU's free memory from nvidia-smi, null without it", () => {
    expect(gpuFreeBytes(() => '11019\n')).toBe(11019 * 1024 * 1024);
    expect(
      gpuFreeBytes(() => {
        throw new Error('nvidia-smi: not found');
      }),
    ).toBeNull();
    expect(gpuFreeBytes(() => 'N/A\n')).toBeNull();
  });

  it('probes the tape per instance (linear in the instances) and leaves weights and tensors as they were', async () => {
    const model = new TinyLearned({ seed: 1 });
    const sample = tinyLassoSet(4, 5, 8, 2, new Rng(3));
    const weights = model.getWeights();
    const tensors = tf.memory().numTensors;
    const free = await chooseMicroBatch(model, tinyLasso, sample, { batch: 12, unroll: 3, budget: { bytes: 1e12, source: 'test' } });
    expect(free.microBatch).toBe(12);
    expect(free.perInstanceBytes).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.getWeights()).toEqual(weights);
    // Three instances' worth of tape beyond the fixed part: 4 parts of 3 for a batch of 12.
    const tight = await chooseMicroBatch(model, tinyLasso, sample, {
      batch: 12,
      unroll: 3,
      budget: { bytes: free.fixedBytes + 3.5 * free.perInstanceBytes, source: 'test' },
    });
    expect(tight.microBatch).toBe(3);
    expect(tight.reason).toMatch(/of tape per instance/);
    // The tape grows with the unroll: a longer segment needs more bytes per instance.
    const longer = await chooseMicroBatch(model, tinyLasso, sample, { batch: 12, unroll: 6, budget: { bytes: 1e12, source: 'test' } });
    expect(longer.perInstanceBytes).toBeGreaterThan(1.5 * free.perInstanceBytes);
    // One instance to probe: its whole peak counted per instance, so never a bigger choice.
    const single = await chooseMicroBatch(model, tinyLasso, tinyLassoSet(1, 5, 8, 2, new Rng(3)), { batch: 12, unroll: 3, budget: tight.budget });
    expect(single.fixedBytes).toBe(0);
    expect(single.perInstanceBytes).toBeGreaterThanOrEqual(free.perInstanceBytes);
    expect(single.microBatch).toBeLessThanOrEqual(3);
    // No limit reported (a browser's WebGL, a GPU without nvidia-smi): the whole batch, a part per worker.
    const none = await chooseMicroBatch(model, tinyLasso, sample, { batch: 12, unroll: 3, workers: 3, budget: null });
    expect(none).toMatchObject({ microBatch: 4, budget: null, reason: 'the engine reports no memory limit' });
    expect((await chooseMicroBatch(model, tinyLasso, sample, { batch: 12, unroll: 3, budget: null })).microBatch).toBe(12);
    model.dispose();
  });
});

describe('training with the automatic micro-batch', () => {
  const train = async (microBatch: number, budget?: { bytes: number; source: string }) => {
    const model = new TinyLearned({ seed: 2 });
    const events: TrainProgress[] = [];
    const result = await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model,
        trainInstances: tinyTrainInstances,
        validationSet: tinyValidationSet(),
        memoryBudget: budget,
        onProgress: (p) => events.push(p),
      },
      { ...TINY_TRAINING, globalSteps: 3, microBatch, seed: 4 },
    );
    const weights = model.getWeights();
    model.dispose();
    return { result, weights, notes: events.filter((e) => e.event === 'micro-batch') };
  };

  it('chooses, says and records the micro-batch, and trains exactly as with it given', async () => {
    const probe = new TinyLearned({ seed: 2 });
    const sample = tinyValidationSet();
    const free = await chooseMicroBatch(probe, tinyLasso, sample, { batch: 6, unroll: TINY_TRAINING.unroll!, budget: { bytes: 1e12, source: 'test' } });
    probe.dispose();
    const budget = { bytes: free.fixedBytes + 2.5 * free.perInstanceBytes, source: 'a test budget' };
    const auto = await train(0, budget);
    expect(auto.result.microBatch).toBe(2);
    expect(auto.notes).toHaveLength(1);
    expect(auto.notes[0]!.message).toMatch(/^micro-batch 2 of 6: .*a test budget/);
    const given = await train(2);
    expect(given.result.microBatch).toBe(2);
    expect(given.notes).toHaveLength(0);
    expect(auto.weights).toEqual(given.weights);
    expect(auto.result.history).toEqual(given.result.history);
  });
});
