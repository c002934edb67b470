import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { sliceInstances } from '../contracts/instances.js';
import { TINY_TRAINING, TinyLearned, tinyLasso, tinyLassoSet, tinyTrainInstances, tinyValidationSet } from '../test-utils/tiny.js';
import { runSegment, trainLearnedOptimizer, type SegmentPart, type TrainOptions } from './trainer.js';
import { readCheckpoint } from './checkpoint.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-trainer-'));
beforeAll(async () => {
  await selectEngine('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const SMALL: Partial<TrainOptions> = TINY_TRAINING;
const trainInstances = tinyTrainInstances;
const validationSet = tinyValidationSet();

function partsOf(set: ReturnType<typeof tinyLassoSet>, micro: number, model: TinyLearned): SegmentPart[] {
  const parts: SegmentPart[] = [];
  for (let start = 0; start < set.count; start += micro) {
    const part = sliceInstances(set, start, micro);
    const batch = tinyLasso.toBatch(part);
    parts.push({ batch, weight: part.count / set.count, state: model.init(tinyLasso, batch) });
  }
  return parts;
}

describe('meta-training', () => {
  it('accumulates micro-batch gradients to the full-batch gradient', async () => {
    const model = new TinyLearned({ seed: 1 });
    const set = tinyLassoSet(6, 5, 8, 2, new Rng(3));
    const results = [];
    for (const micro of [6, 2, 4]) {
      const parts = partsOf(set, micro, model);
      // Two segments, so the second starts from carried (detached) states.
      const first = await runSegment(model, tinyLasso, parts, 0, 3);
      tf.dispose(first.grads);
      const second = await runSegment(model, tinyLasso, parts, 3, 3);
      const grads = Object.fromEntries(Object.entries(second.grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
      tf.dispose(second.grads);
      for (const p of parts) {
        tf.dispose([p.state.x, p.state.y!]);
        tinyLasso.disposeBatch(p.batch);
      }
      results.push({ loss: second.loss, grads });
    }
    const [full, ...split] = results;
    for (const r of split) {
      // float32 sums in a different order: relative error a few ulps of the largest entry.
      expect(Math.abs(r!.loss - full!.loss)).toBeLessThan(1e-5 * Math.abs(full!.loss));
      for (const [name, g] of Object.entries(full!.grads)) {
        const scale = Math.max(...g.map(Math.abs));
        r!.grads[name]!.forEach((v, i) => expect(Math.abs(v - g[i]!)).toBeLessThan(1e-5 * scale + 1e-7));
      }
    }
    model.dispose();
  });

  it('does not grow the tensor count across training steps', async () => {
    const model = new TinyLearned({ seed: 2 });
    const counts = new Map<number, number>();
    await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model,
        validationSet,
        trainInstances,
        onProgress: (p) => {
          if (p.segment === p.segments - 1 && p.event === 'segment') counts.set(p.step + 1, tf.memory().numTensors);
        },
      },
      { ...SMALL, globalSteps: 200, validateEvery: 10 },
    );
    expect(counts.get(10)).toBeGreaterThan(0);
    expect(counts.get(200)).toBe(counts.get(10));
    model.dispose();
  });

  it('lowers the validation loss', async () => {
    const model = new TinyLearned({ seed: 4 });
    const result = await trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances }, { ...SMALL, globalSteps: 60, learningRate: 3e-2 });
    const first = result.validation[0]!.loss;
    expect(result.best!.loss).toBeLessThan(first);
    model.dispose();
  });

  it('resumes an interrupted run to exactly the weights of an uninterrupted one', async () => {
    const opts = { ...SMALL, globalSteps: 8, seed: 5 };
    const straight = new TinyLearned({ seed: 3, dropout: 0.2 });
    await trainLearnedOptimizer({ problem: tinyLasso, model: straight, validationSet, trainInstances }, opts);

    const resumeFile = path.join(temp, 'resume.json');
    const interrupted = new TinyLearned({ seed: 3, dropout: 0.2 });
    const controller = new AbortController();
    const partial = await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model: interrupted,
        validationSet,
        trainInstances,
        resumeFile,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 2) controller.abort(); // like SIGINT during step 2: it finishes, then saves
        },
      },
      opts,
    );
    expect(partial.interrupted).toBe(true);
    expect(partial.completedSteps).toBe(3);
    const checkpoint = readCheckpoint(resumeFile);
    expect(checkpoint.training!.nextStep).toBe(3);

    const resumed = new TinyLearned({ seed: 77, dropout: 0.2 }); // other initial weights: all come from the checkpoint
    const result = await trainLearnedOptimizer({ problem: tinyLasso, model: resumed, validationSet, trainInstances, resume: checkpoint }, opts);
    expect(result.interrupted).toBe(false);
    expect(resumed.getWeights()).toEqual(straight.getWeights());
    for (const m of [straight, interrupted, resumed]) m.dispose();
  });

  it('stops at the step where the loss becomes non-finite, naming step and model', async () => {
    const model = new TinyLearned({ seed: 6 });
    const poisoned = async (step: number, rng: Rng) => {
      const set = tinyLassoSet(6, 5, 8, 2, rng);
      if (step === 3) set.b[0] = Number.NaN;
      return set;
    };
    await expect(
      trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances: poisoned }, { ...SMALL, globalSteps: 6 }),
    ).rejects.toThrow(/non-finite value at global step 3, segment 0 of model 'tiny'/);

    const skipping = new TinyLearned({ seed: 6 });
    const skipped: string[] = [];
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model: skipping, validationSet, trainInstances: poisoned, onProgress: (p) => p.event === 'skipped' && skipped.push(p.message!) },
      { ...SMALL, globalSteps: 6, onNonFinite: 'skip' },
    );
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/global step 3.*learning rate now 0.005/);
    expect(result.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    for (const w of Object.values(skipping.getWeights())) expect(w.data.every(Number.isFinite)).toBe(true);
    model.dispose();
    skipping.dispose();
  });

  it('rejects inconsistent options', async () => {
    const model = new TinyLearned();
    await expect(trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances }, { iterations: 10, unroll: 3 })).rejects.toThrow(
      /multiple of the unroll length/,
    );
    model.dispose();
  });
});
