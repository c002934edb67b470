import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { isL2oError } from '../errors.js';
import { normalizeTraining } from '../experiment/train-model.js';
import { loadExperimentSpec } from '../experiment/spec.js';
import { TINY_TRAINING, TinyLearned, tinyLasso, tinyTrainInstances, tinyValidationSet } from '../test-utils/tiny.js';
import { clipByGlobalNorm, runSegment, scheduledLearningRate, trainLearnedOptimizer, type TrainOptions, type TrainProgress } from './trainer.js';
import { readCheckpoint, weightsChecksum, type Checkpoint } from './checkpoint.js';
import { checkTrainOptions, DEFAULT_TRAIN_OPTIONS } from './training-options.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-stabilisers-'));
beforeAll(async () => {
  await selectEngine('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const validationSet = tinyValidationSet();
const train = (
  model: TinyLearned,
  options: Partial<TrainOptions>,
  extra: { resumeFile?: string; resume?: Checkpoint; onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
) => trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances: tinyTrainInstances, ...extra }, options);

const norm = (grads: tf.NamedTensorMap) => Math.sqrt(Object.values(grads).reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0));

describe('stabilisers off (the default)', () => {
  // Computed with the trainer before the stabilisers existed: the papers' protocol must not move.
  const BEFORE = {
    history: [
      1.3926430940628052, 1.7819443941116333, 1.3585450649261475, 1.2776803970336914, 2.240565776824951, 1.4103851318359375, 15.107486724853516,
      6.788171768188477, 1.1626994609832764, 1.4678606986999512, 4.757891654968262, 1.369581937789917,
    ],
    validation: [
      { step: 3, loss: 0.6991548547521234 },
      { step: 6, loss: 0.5790004264563322 },
    ],
    weights: 'd42afc1fa375d5f1b423a18c3349a968893963a3239c1df227976f069ecb3d8c',
  };

  it.each([
    ['left unset', {}],
    ['at their off values', { clipNorm: 0, lrSchedule: 'constant', rollbackFactor: 0, skipRateFactor: 0.5 } as const],
  ])('leave a smoke training bit-identical when %s', async (_what, stabilisers) => {
    const model = new TinyLearned({ seed: 8, dropout: 0.2 });
    const result = await train(model, { ...TINY_TRAINING, globalSteps: 6, validateEvery: 3, seed: 9, ...stabilisers });
    expect(result.history.map((h) => h.loss)).toEqual(BEFORE.history);
    expect(result.validation).toEqual(BEFORE.validation);
    expect(weightsChecksum(model.getWeights())).toBe(BEFORE.weights);
    expect(result.rollbacks).toBeUndefined();
    model.dispose();
  });

  it('keep the options, and so cache keys and resume checks, as they were', () => {
    expect(Object.keys(DEFAULT_TRAIN_OPTIONS)).not.toEqual(expect.arrayContaining(['clipNorm']));
    for (const key of ['clipNorm', 'lrSchedule', 'rollbackFactor', 'skipRateFactor']) expect(DEFAULT_TRAIN_OPTIONS).not.toHaveProperty(key);
    const off = normalizeTraining({ ...DEFAULT_TRAIN_OPTIONS, clipNorm: 0, lrSchedule: 'constant', rollbackFactor: 0, skipRateFactor: 0.5 });
    expect(off).toEqual(DEFAULT_TRAIN_OPTIONS);
    const on = normalizeTraining({ ...DEFAULT_TRAIN_OPTIONS, clipNorm: 1, lrSchedule: 'cosine', rollbackFactor: 2, skipRateFactor: 1 });
    expect(on).toMatchObject({ clipNorm: 1, lrSchedule: 'cosine', rollbackFactor: 2, skipRateFactor: 1 });
  });

  it("are set in a spec's training settings, checked by its schema", () => {
    const spec = (training: string) => {
      const file = path.join(temp, `spec-${Math.random().toString(36).slice(2)}.yaml`);
      const scale = `scales: { smoke: { training: ${training} } }`;
      writeFileSync(file, ['name: t', 'problem: { id: lasso }', 'test: { dataset: synthetic }', 'optimizers: [{ id: fista }]', scale].join('\n'));
      return loadExperimentSpec(file);
    };
    const given = { clipNorm: 1, lrSchedule: 'cosine', rollbackFactor: 2, validationSize: 1024 };
    expect(spec(JSON.stringify(given)).scales?.smoke?.training).toEqual(given);
    expect(() => spec('{ lrSchedule: linear }')).toThrow(/lrSchedule/);
    expect(() => spec('{ clipNorm: -1 }')).toThrow(/clipNorm/);
  });

  it('refuse a rollback factor between 0 and 1', () => {
    const check = (rollbackFactor: number) => () => checkTrainOptions({ ...DEFAULT_TRAIN_OPTIONS, rollbackFactor });
    expect(check(0.5)).toThrow(/rollbackFactor must be 0 \(off\) or at least 1, got 0.5/);
    expect(check(1)).not.toThrow();
    expect(() => checkTrainOptions({ ...DEFAULT_TRAIN_OPTIONS, lrSchedule: 'linear' as 'cosine' })).toThrow(/lrSchedule/);
    expect(() => checkTrainOptions({ ...DEFAULT_TRAIN_OPTIONS, clipNorm: -1 })).toThrow(/clipNorm/);
  });
});

describe('gradient clipping', () => {
  it('scales gradients above the bound to its global norm, keeping their direction', () => {
    const grads = { a: tf.tensor1d([3, 0, 4]), b: tf.tensor2d([[12]]) }; // norm 13
    const clipped = clipByGlobalNorm(grads, 1.3, 13);
    expect(norm(clipped)).toBeCloseTo(1.3, 6);
    expect(Array.from(clipped.a!.dataSync())).toEqual([0.3, 0, 0.4].map(Math.fround));
    expect(Array.from(clipped.b!.dataSync())).toEqual([Math.fround(1.2)]);
    expect(grads.a.isDisposed).toBe(true);
    const below = { c: tf.tensor1d([0.1]) };
    expect(clipByGlobalNorm(below, 1, 0.1)).toBe(below);
    expect(clipByGlobalNorm(below, 0, 0.1)).toBe(below); // 0: off
    tf.dispose([clipped.a!, clipped.b!, below.c]);
  });

  /** One global step of one segment, so the trainer makes exactly one Adam step. */
  const ONE_STEP: Partial<TrainOptions> = { ...TINY_TRAINING, globalSteps: 1, iterations: 2, unroll: 2, validateEvery: 1, seed: 4, microBatch: 6 }; // seed 4: the Rng of adamStepByHand

  /** The weights after one Adam step from `model`'s on the trainer's first batch, with the gradient clipped to `clip` (0: not). */
  async function adamStepByHand(clip: number): Promise<string> {
    const model = new TinyLearned({ seed: 11 });
    const set = await tinyTrainInstances(0, new Rng(4).fork('meta-training').fork('train-0'));
    const batch = tinyLasso.toBatch(set);
    const parts = [{ batch, weight: 1, state: model.init(tinyLasso, batch) }];
    const { grads } = await runSegment(model, tinyLasso, parts, 0, 2);
    const g = clipByGlobalNorm(grads, clip, norm(grads));
    if (clip > 0) expect(norm(g)).toBeCloseTo(clip, 12);
    const adam = tf.train.adam(ONE_STEP.learningRate);
    adam.applyGradients(model.variables().map((v) => ({ name: v.name, tensor: g[v.name]! })));
    const weights = weightsChecksum(model.getWeights());
    tf.dispose([g, parts[0]!.state.x, parts[0]!.state.y!]);
    tinyLasso.disposeBatch(batch);
    adam.dispose();
    model.dispose();
    return weights;
  }

  it('makes the Adam step of the clipped meta-gradient', async () => {
    // Adam is scale-invariant until the gradient nears its epsilon: a bound of 1e-7 changes the step.
    const clipNorm = 1e-7;
    const model = new TinyLearned({ seed: 11 });
    await train(model, { ...ONE_STEP, clipNorm });
    const trained = weightsChecksum(model.getWeights());
    model.dispose();
    expect(trained).toBe(await adamStepByHand(clipNorm));
    expect(trained).not.toBe(await adamStepByHand(0));
  });

  it('clips the gradient of the whole batch, not of each micro-batch', async () => {
    const weightsWith = async (microBatch: number) => {
      const model = new TinyLearned({ seed: 11 });
      await train(model, { ...ONE_STEP, microBatch, clipNorm: 1e-7 });
      const w = model.getWeights();
      model.dispose();
      return Object.values(w).flatMap((t) => t.data);
    };
    const whole = await weightsWith(6);
    const split = await weightsWith(2);
    // The accumulated gradient differs from the whole batch's by float32 rounding only.
    split.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 6));
  });
});

describe('learning-rate schedule', () => {
  it('follows the cosine from the base rate to 0', () => {
    expect(scheduledLearningRate(0.01, 0, 500, 'cosine')).toBe(0.01);
    expect(scheduledLearningRate(0.01, 250, 500, 'cosine')).toBeCloseTo(0.005, 15);
    expect(scheduledLearningRate(0.01, 125, 500, 'cosine')).toBeCloseTo((0.01 * (1 + Math.SQRT1_2)) / 2, 15);
    expect(scheduledLearningRate(0.01, 500, 500, 'cosine')).toBe(0);
    expect(scheduledLearningRate(0.01, 250, 500, 'constant')).toBe(0.01);
    expect(scheduledLearningRate(0.01, 250, 500, undefined)).toBe(0.01);
  });

  /** The learning rate of every Adam step the trainer makes while `run` runs. */
  async function ratesOf(run: () => Promise<unknown>): Promise<number[]> {
    const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: (...a: unknown[]) => void };
    const original = proto.applyGradients;
    const rates: number[] = [];
    proto.applyGradients = function (this: { learningRate: number }, ...args: unknown[]) {
      rates.push(this.learningRate);
      original.apply(this, args);
    };
    try {
      await run();
    } finally {
      proto.applyGradients = original;
    }
    return rates;
  }

  const COSINE: Partial<TrainOptions> = { ...TINY_TRAINING, globalSteps: 4, validateEvery: 2, seed: 3, lrSchedule: 'cosine' };
  const expected = [0, 1, 2, 3].flatMap((k) => [k, k].map((s) => scheduledLearningRate(1e-2, s, 4, 'cosine'))); // two segments a step

  it('sets the rate of every global step, and a resumed run goes on where it stopped', async () => {
    const straight = new TinyLearned({ seed: 5 });
    expect(await ratesOf(() => train(straight, COSINE))).toEqual(expected);

    const resumeFile = path.join(temp, 'cosine.json.resume');
    const controller = new AbortController();
    const interrupted = new TinyLearned({ seed: 5 });
    const before = await ratesOf(() =>
      train(interrupted, COSINE, { resumeFile, signal: controller.signal, onProgress: (p) => p.step === 2 && p.event === 'segment' && controller.abort() }),
    );
    expect(before).toEqual(expected.slice(0, 5)); // step 3's first segment, undone on interruption
    const resumed = new TinyLearned({ seed: 70 });
    const after = await ratesOf(() => train(resumed, COSINE, { resume: readCheckpoint(resumeFile) }));
    expect(after).toEqual(expected.slice(4));
    expect(resumed.getWeights()).toEqual(straight.getWeights());
    for (const m of [straight, interrupted, resumed]) m.dispose();
  });
});

describe('rollback', () => {
  const ROLLBACK: Partial<TrainOptions> = { ...TINY_TRAINING, globalSteps: 6, validateEvery: 2, seed: 7, rollbackFactor: 1.5 };
  const spikeAt = (model: TinyLearned, step: number, spike: (v: number) => number) => (p: TrainProgress) => {
    // After the last Adam step of global step `step` (counted from 1): what a wild update would do.
    if (p.event !== 'segment' || p.step + 1 !== step || p.segment !== p.segments - 1) return;
    const w = model.getWeights();
    model.setWeights(Object.fromEntries(Object.entries(w).map(([k, t]) => [k, { ...t, data: t.data.map(spike) }])));
  };
  let models: TinyLearned[] = [];
  afterEach(() => {
    for (const m of models) m.dispose();
    models = [];
  });

  it('restores the weights and Adam state of the best validation when a validation loss spikes', async () => {
    const resumeFile = path.join(temp, 'rollback.json.resume');
    const model = new TinyLearned({ seed: 2 });
    models.push(model);
    const events: TrainProgress[] = [];
    const resumes: Record<number, Checkpoint> = {};
    const spike = spikeAt(model, 4, (v) => v * 40);
    const result = await train(model, ROLLBACK, {
      resumeFile,
      onProgress: (p) => {
        events.push(p);
        spike(p);
        // The resume file of a validation, read at the next step's first segment.
        if (p.event === 'segment' && p.segment === 0 && (p.step === 2 || p.step === 4)) resumes[p.step] = readCheckpoint(resumeFile);
      },
    });
    const [v2, v4] = result.validation;
    expect(v4!.step).toBe(4);
    expect(v4!.loss).toBeGreaterThan(1.5 * v2!.loss);
    expect(result.rollbacks).toBe(1);
    const rollbacks = events.filter((e) => e.event === 'rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]!.message).toMatch(/^rolled back at global step 4: validation loss .* > 1\.5 × the best .*; weights and Adam state of step 2 restored/);
    // After the rollback, training went on from step 2's weights and Adam slots.
    const atBest = resumes[2]!;
    const afterRollback = resumes[4]!;
    expect(afterRollback.weights).toEqual(atBest.weights);
    expect(afterRollback.training!.metaOptimizer).toEqual(atBest.training!.metaOptimizer);
    expect(afterRollback.training!.bestMetaOptimizer).toEqual(atBest.training!.metaOptimizer);
    expect(afterRollback.training!.rollbacks).toBe(1);
    expect(afterRollback.training!.nextStep).toBe(4);
  });

  it('rolls back on a non-finite validation, and a rollback at the end leaves the best weights', async () => {
    const model = new TinyLearned({ seed: 2 });
    models.push(model);
    const result = await train(model, { ...ROLLBACK, globalSteps: 4 }, { onProgress: spikeAt(model, 4, () => Number.NaN) });
    expect(result.rollbacks).toBe(1);
    expect(result.best!.step).toBe(2);
    expect(model.getWeights()).toEqual(result.best!.weights);
  });

  it('is off by default: the same spike is kept, and a non-finite validation stops training', async () => {
    const kept = new TinyLearned({ seed: 2 });
    const stopped = new TinyLearned({ seed: 2 });
    models.push(kept, stopped);
    const off = { ...ROLLBACK, globalSteps: 4, rollbackFactor: undefined };
    const result = await train(kept, off, { onProgress: spikeAt(kept, 4, (v) => v * 40) });
    expect(result.rollbacks).toBeUndefined();
    expect(kept.getWeights()).not.toEqual(result.best!.weights);
    const error = await train(stopped, off, { onProgress: spikeAt(stopped, 4, () => Number.NaN) }).catch((e: unknown) => e);
    expect(isL2oError(error) && error.message).toMatch(/validation set is not finite/);
  });

  it('frees what it keeps for rollback', async () => {
    const model = new TinyLearned({ seed: 2 });
    models.push(model);
    const before = tf.memory().numTensors;
    const result = await train(model, ROLLBACK, { resumeFile: path.join(temp, 'free.json.resume'), onProgress: spikeAt(model, 4, (v) => v * 40) });
    expect(result.rollbacks).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resumes with the best Adam state, to the weights of an uninterrupted run', async () => {
    const straight = new TinyLearned({ seed: 2 });
    models.push(straight);
    await train(straight, ROLLBACK, { onProgress: spikeAt(straight, 4, (v) => v * 40) });

    const resumeFile = path.join(temp, 'rollback-resume.json.resume');
    const controller = new AbortController();
    const interrupted = new TinyLearned({ seed: 2 });
    models.push(interrupted);
    // Stopped in step 3, before the spike: the best Adam state (step 2) must come from the file.
    await train(interrupted, ROLLBACK, { resumeFile, signal: controller.signal, onProgress: (p) => p.step === 2 && controller.abort() });
    const checkpoint = readCheckpoint(resumeFile);
    expect(checkpoint.training!.bestMetaOptimizer).toBeDefined();
    expect(JSON.parse(readFileSync(resumeFile, 'utf8')).training.rollbacks).toBe(0);
    const resumed = new TinyLearned({ seed: 2 });
    models.push(resumed);
    const result = await train(resumed, ROLLBACK, { resume: checkpoint, onProgress: spikeAt(resumed, 4, (v) => v * 40) });
    expect(result.rollbacks).toBe(1);
    expect(resumed.getWeights()).toEqual(straight.getWeights());
  });
});
