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
      expect(Math.abs(r.loss - full!.loss)).toBeLessThan(1e-5 * Math.abs(full!.loss));
      for (const [name, g] of Object.entries(full!.grads)) {
        const scale = Math.max(...g.map(Math.abs));
        r.grads[name]!.forEach((v, i) => expect(Math.abs(v - g[i]!)).toBeLessThan(1e-5 * scale + 1e-7));
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
        // The resumable checkpoint written at every validation must not hold on to tensors either.
        resumeFile: path.join(temp, 'count.json.resume'),
        onProgress: (p) => {
          if (p.segment === p.segments - 1 && p.event === 'segment') counts.set(p.step + 1, tf.memory().numTensors);
        },
      },
      { ...SMALL, globalSteps: 200, validateEvery: 10 },
    );
    // From the first validation on, the trainer holds a fixed set (the last validated weights and
    // Adam slots, whose moments exist only after the first update).
    expect(counts.get(20)).toBeGreaterThan(0);
    expect(counts.get(200)).toBe(counts.get(20));
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
          if (p.step === 2) controller.abort(); // like SIGINT during step 3: it stops, the step is redone on resume
        },
      },
      opts,
    );
    expect(partial.interrupted).toBe(true);
    expect(partial.completedSteps).toBe(2);
    const checkpoint = readCheckpoint(resumeFile);
    expect(checkpoint.training!.nextStep).toBe(2);

    const resumed = new TinyLearned({ seed: 77, dropout: 0.2 }); // other initial weights: all come from the checkpoint
    const result = await trainLearnedOptimizer({ problem: tinyLasso, model: resumed, validationSet, trainInstances, resume: checkpoint }, opts);
    expect(result.interrupted).toBe(false);
    expect(resumed.getWeights()).toEqual(straight.getWeights());
    for (const m of [straight, interrupted, resumed]) m.dispose();
  });

  it('records the sessions that made a resumed training: their steps, time, commit and engine', async () => {
    const opts = { ...SMALL, globalSteps: 6, seed: 8 };
    const resumeFile = path.join(temp, 'sessions.json');
    const first = new TinyLearned({ seed: 3, dropout: 0.2 });
    const controller = new AbortController();
    await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model: first,
        validationSet,
        trainInstances,
        resumeFile,
        signal: controller.signal,
        madeBy: { commit: 'aaaa', engine: 'wasm' },
        onProgress: (p) => {
          if (p.step === 2) controller.abort();
        },
      },
      opts,
    );
    const checkpoint = readCheckpoint(resumeFile);
    const [one] = checkpoint.training!.sessions!;
    expect(checkpoint.training!.sessions).toHaveLength(1);
    expect(one).toMatchObject({ fromStep: 0, toStep: 2, commit: 'aaaa', engine: 'wasm' });
    expect(one!.seconds).toBeCloseTo(checkpoint.training!.seconds, 9);

    const second = new TinyLearned({ seed: 3, dropout: 0.2 });
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model: second, validationSet, trainInstances, resume: checkpoint, madeBy: { commit: 'bbbb', engine: 'wasm' } },
      opts,
    );
    expect(result.sessions.map(({ seconds: _s, ...s }) => s)).toEqual([
      { fromStep: 0, toStep: 2, commit: 'aaaa', engine: 'wasm' },
      { fromStep: 2, toStep: 6, commit: 'bbbb', engine: 'wasm' },
    ]);
    expect(result.sessions[0]!.seconds + result.sessions[1]!.seconds).toBeCloseTo(result.seconds, 6);

    // A resume state written before sessions were recorded: its steps are one session of unknown commit.
    delete checkpoint.training!.sessions;
    const third = new TinyLearned({ seed: 3, dropout: 0.2 });
    const old = await trainLearnedOptimizer({ problem: tinyLasso, model: third, validationSet, trainInstances, resume: checkpoint }, opts);
    expect(old.sessions.map(({ seconds: _s, ...s }) => s)).toEqual([
      { fromStep: 0, toStep: 2 },
      { fromStep: 2, toStep: 6 },
    ]);
    for (const m of [first, second, third]) m.dispose();
  });

  it('keeps a resumable checkpoint at every validation, so a killed process resumes to the uninterrupted weights', async () => {
    const opts = { ...SMALL, globalSteps: 8, validateEvery: 3, seed: 6 };
    const straight = new TinyLearned({ seed: 3, dropout: 0.2 });
    await trainLearnedOptimizer({ problem: tinyLasso, model: straight, validationSet, trainInstances }, opts);

    const resumeFile = path.join(temp, 'killed.json');
    const killed = new TinyLearned({ seed: 3, dropout: 0.2 });
    // A crash in step 5 (like SIGKILL: no handler runs, nothing is written on the way out).
    const crash = trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model: killed,
        validationSet,
        trainInstances,
        resumeFile,
        onProgress: (p) => {
          if (p.step === 4) throw new Error('killed');
        },
      },
      opts,
    );
    await expect(crash).rejects.toThrow('killed');
    const checkpoint = readCheckpoint(resumeFile);
    expect(checkpoint.training!.nextStep).toBe(3); // the validation after step 3

    const resumed = new TinyLearned({ seed: 77, dropout: 0.2 });
    await trainLearnedOptimizer({ problem: tinyLasso, model: resumed, validationSet, trainInstances, resume: checkpoint }, opts);
    expect(resumed.getWeights()).toEqual(straight.getWeights());
    for (const m of [straight, killed, resumed]) m.dispose();
  });

  it('stops at the step where the loss becomes non-finite, naming step and model', async () => {
    const model = new TinyLearned({ seed: 6 });
    const poisoned = async (step: number, rng: Rng) => {
      const set = tinyLassoSet(6, 5, 8, 2, rng);
      if (step === 3) set.b[0] = Number.NaN;
      return set;
    };
    await expect(trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances: poisoned }, { ...SMALL, globalSteps: 6 })).rejects.toThrow(
      /'tiny' diverged at global step 4: segment 1 gave loss NaN/,
    );

    const skipping = new TinyLearned({ seed: 6 });
    const skipped: string[] = [];
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model: skipping, validationSet, trainInstances: poisoned, onProgress: (p) => p.event === 'skipped' && skipped.push(p.message!) },
      { ...SMALL, globalSteps: 6, onNonFinite: 'skip' },
    );
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/global step 4.*weights restored, learning rate now 0.005/);
    expect(result.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    for (const w of Object.values(skipping.getWeights())) expect(w.data.every(Number.isFinite)).toBe(true);
    model.dispose();
    skipping.dispose();
  });

  it('with skipRateFactor 1 a non-finite step is only dropped: the learning rate is kept', async () => {
    const poisoned = async (step: number, rng: Rng) => {
      const set = await trainInstances(step, rng);
      if (step === 3) set.b[0] = Number.NaN;
      return set;
    };
    const run = async (skipRateFactor: number | undefined) => {
      const model = new TinyLearned({ seed: 9 });
      const skipped: string[] = [];
      const result = await trainLearnedOptimizer(
        { problem: tinyLasso, model, validationSet, trainInstances: poisoned, onProgress: (p) => p.event === 'skipped' && skipped.push(p.message!) },
        { ...SMALL, globalSteps: 6, onNonFinite: 'skip', ...(skipRateFactor !== undefined ? { skipRateFactor } : {}) },
      );
      model.dispose();
      return { result, skipped };
    };
    const kept = await run(1);
    const halved = await run(undefined);
    expect(kept.skipped).toEqual([expect.stringMatching(/^skipped global step 4: .*weights restored, learning rate kept at 0.01$/)]);
    expect(halved.skipped).toEqual([expect.stringMatching(/learning rate now 0.005$/)]);
    // The same up to the dropped step; after it, the kept rate takes other steps than the halved one.
    const upTo3 = (r: typeof kept) => r.result.history.filter((h) => h.step <= 3);
    expect(upTo3(kept)).toEqual(upTo3(halved));
    expect(kept.result.history.filter((h) => h.step === 6)).not.toEqual(halved.result.history.filter((h) => h.step === 6));
  });

  it('a skipped step restores the weights and Adam state of its start', async () => {
    const poisoned = async (step: number, rng: Rng) => {
      const set = await trainInstances(step, rng);
      if (step === 3) set.b[0] = Number.NaN;
      return set;
    };
    const straight = new TinyLearned({ seed: 9 });
    await trainLearnedOptimizer({ problem: tinyLasso, model: straight, validationSet, trainInstances }, { ...SMALL, globalSteps: 3 });
    const skipping = new TinyLearned({ seed: 9 });
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model: skipping, validationSet, trainInstances: poisoned },
      { ...SMALL, globalSteps: 4, onNonFinite: 'skip' },
    );
    // The failed step leaves no trace in the weights, the Adam state or the loss history.
    expect(skipping.getWeights()).toEqual(straight.getWeights());
    expect(result.history.map((h) => h.step)).toEqual([1, 1, 2, 2, 3, 3]);
    straight.dispose();
    skipping.dispose();
  });

  it('a learning rate that makes the weights non-finite: stop names it, skip restores the last finite weights', async () => {
    const model = new TinyLearned({ seed: 6 });
    await expect(
      trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances }, { ...SMALL, globalSteps: 3, learningRate: 1e39 }),
    ).rejects.toThrow(/diverged at global step 1: the update after segment 1 made the weights non-finite \(learning rate 1e\+39\)/);
    const skipping = new TinyLearned({ seed: 6 });
    const before = skipping.getWeights();
    const skipped: string[] = [];
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model: skipping, validationSet, trainInstances, onProgress: (p) => p.event === 'skipped' && skipped.push(p.message!) },
      { ...SMALL, globalSteps: 3, learningRate: 1e39, onNonFinite: 'skip' },
    );
    expect(skipped).toHaveLength(3); // 1e39 / 8 is still far too large: every step is skipped
    expect(skipped[0]).toMatch(/made the weights non-finite; weights restored, learning rate now 5e\+38/);
    expect(result.completedSteps).toBe(3);
    expect(skipping.getWeights()).toEqual(before);
    model.dispose();
    skipping.dispose();
  });

  it('divergence that shows first on the validation set fires the guard', async () => {
    const poisonedValidation = tinyValidationSet();
    poisonedValidation.b[0] = Number.POSITIVE_INFINITY;
    const model = new TinyLearned({ seed: 6 });
    await expect(
      trainLearnedOptimizer({ problem: tinyLasso, model, validationSet: poisonedValidation, trainInstances }, { ...SMALL, globalSteps: 5 }),
    ).rejects.toThrow(/diverged at global step 5: the loss on the validation set is not finite \(on 1 of \d+ instances\) \(learning rate 0.01\)/);
    const skipping = new TinyLearned({ seed: 6 });
    const start = skipping.getWeights();
    const skipped: string[] = [];
    await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model: skipping,
        validationSet: poisonedValidation,
        trainInstances,
        onProgress: (p) => p.event === 'skipped' && skipped.push(p.message!),
      },
      { ...SMALL, globalSteps: 5, onNonFinite: 'skip' },
    );
    // Back to the last validated state: here the start, as no validation ever passed.
    expect(skipped).toEqual([expect.stringMatching(/validation set is not finite \(on 1 of \d+ instances\); weights restored, learning rate now 0.005/)]);
    expect(skipping.getWeights()).toEqual(start);
    model.dispose();
    skipping.dispose();
  });

  it("with onNonFiniteValidation 'not-best', a validation that blows up is never the best and training goes on", async () => {
    // The validation at global step 4 meets an instance that blows up (b = +Infinity), those at 2 and 6 do not.
    const flaky = tinyValidationSet();
    const b0 = flaky.b[0]!;
    const poisonAt = (step: number) => (p: { event: string; step: number }) => {
      if (p.event === 'segment') flaky.b[0] = p.step + 1 === step ? Number.POSITIVE_INFINITY : b0;
    };
    const options = { ...SMALL, globalSteps: 6, validateEvery: 2 };
    const guarded = new TinyLearned({ seed: 6 });
    await expect(
      trainLearnedOptimizer({ problem: tinyLasso, model: guarded, validationSet: flaky, trainInstances, onProgress: poisonAt(4) }, options),
    ).rejects.toThrow(/diverged at global step 4: the loss on the validation set is not finite/);
    const model = new TinyLearned({ seed: 6 });
    const result = await trainLearnedOptimizer(
      { problem: tinyLasso, model, validationSet: flaky, trainInstances, onProgress: poisonAt(4) },
      { ...options, onNonFiniteValidation: 'not-best' },
    );
    expect(result.completedSteps).toBe(6);
    expect(result.validation.map((v) => v.step)).toEqual([2, 4, 6]);
    expect(result.validation[1]!.loss).toBe(Number.POSITIVE_INFINITY);
    // The log says how many validation instances blew up: the one poisoned instance.
    expect(result.validation[1]!.nonFiniteInstances).toBe(1);
    expect(result.validation[0]!.nonFiniteInstances).toBeUndefined();
    expect(Number.isFinite(result.validation[0]!.loss) && Number.isFinite(result.validation[2]!.loss)).toBe(true);
    expect(result.best!.loss).toBe(Math.min(result.validation[0]!.loss, result.validation[2]!.loss));
    // The same training as one whose step-4 validation never blew up: validation does not change the weights.
    const clean = new TinyLearned({ seed: 6 });
    flaky.b[0] = b0;
    const reference = await trainLearnedOptimizer({ problem: tinyLasso, model: clean, validationSet: flaky, trainInstances }, options);
    expect(result.history).toEqual(reference.history);
    // None finite: nothing to keep, said at the end.
    const poisoned = tinyValidationSet();
    poisoned.b[0] = Number.POSITIVE_INFINITY;
    const never = new TinyLearned({ seed: 6 });
    await expect(
      trainLearnedOptimizer({ problem: tinyLasso, model: never, validationSet: poisoned, trainInstances }, { ...options, onNonFiniteValidation: 'not-best' }),
    ).rejects.toThrow(/kept no checkpoint: none of its 3 validations had a finite loss/);
    for (const m of [guarded, model, clean, never]) m.dispose();
  });

  it('rejects inconsistent options', async () => {
    const model = new TinyLearned();
    await expect(trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances }, { iterations: 10, unroll: 3 })).rejects.toThrow(
      /multiple of the unroll length/,
    );
    model.dispose();
  });
});
