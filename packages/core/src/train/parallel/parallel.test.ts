import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.js';
import { selectEngine } from '../../engine/engine.js';
import { Rng } from '../../random/rng.js';
import { sliceInstances, type InstanceSet } from '../../contracts/instances.js';
import { TINY_TRAINING, TinyLearned, tinyLasso, tinyLassoSet, tinyTrainInstances, tinyValidationSet } from '../../test-utils/tiny.js';
import { runSegment, trainLearnedOptimizer, type SegmentPart, type TrainOptions } from '../trainer.js';
import { liveSegmentWorkers, runParallelSegment, startSegmentPool, type WorkerPlatform } from './worker-pool.js';

// Workers run the built dist (Node cannot start a .ts worker), and they rebuild the model and
// problem through plugin discovery: this test compiles the tiny helpers into a plugin file.
const coreRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dist = path.join(coreRoot, 'dist');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-parallel-'));
let platform: WorkerPlatform;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, entry.name === 'test-utils' ? 0 : newestSource(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** `nx test` builds first; a direct `vitest run` after editing the sources rebuilds here. */
function ensureBuilt(): void {
  const worker = path.join(dist, 'train/parallel/segment-worker.js');
  if (existsSync(worker) && statSync(worker).mtimeMs >= newestSource(path.join(coreRoot, 'src'))) return;
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(coreRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
}

/** tiny.ts as an ES module importing the built core, plus a plugin entry registering it. */
function writeTinyPlugin(): string {
  const source = readFileSync(path.join(coreRoot, 'src/test-utils/tiny.ts'), 'utf8');
  const js = ts
    .transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } })
    .outputText.replace(/from '(\.\.?\/[^']+)'/g, (_, spec: string) => `from '${pathToFileURL(path.join(dist, 'test-utils', spec)).href}'`);
  writeFileSync(path.join(temp, 'tiny.mjs'), js);
  const entry = path.join(temp, 'plugin.mjs');
  writeFileSync(
    entry,
    `import { TinyLearned, tinyLasso } from './tiny.mjs';
// Fails from iteration 2 on (the second segment when unroll is 2): by throwing, or by ending its thread.
class Faulty extends TinyLearned {
  constructor(id, mode, options) { super(options); Object.defineProperty(this, 'modelId', { value: id }); this.mode = mode; }
  step(problem, batch, state, ctx) {
    if (ctx.k >= 2) { if (this.mode === 'exit') process.exit(3); throw new Error('boom at iteration ' + ctx.k); }
    return super.step(problem, batch, state, ctx);
  }
}
export function register(r) {
  r.problem({ id: 'lasso', description: 'tiny LASSO', create: () => tinyLasso });
  r.model({ id: 'tiny', description: 'tiny', defaultConfig: () => ({}), create: (o) => new TinyLearned(o) });
  r.model({ id: 'tiny-throw', description: 'fails', defaultConfig: () => ({}), create: (o) => new Faulty('tiny-throw', 'throw', o) });
  r.model({ id: 'tiny-exit', description: 'exits', defaultConfig: () => ({}), create: (o) => new Faulty('tiny-exit', 'exit', o) });
}
`,
  );
  return entry;
}

beforeAll(async () => {
  await selectEngine('cpu');
  ensureBuilt();
  platform = { engine: 'cpu', searchFrom: [], pluginPaths: [writeTinyPlugin()] };
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The main thread's model under another id (the workers build the plugin's model of that id). */
function named(id: string, config: ConstructorParameters<typeof TinyLearned>[0]): TinyLearned {
  const model = new TinyLearned(config);
  Object.defineProperty(model, 'modelId', { value: id });
  return model;
}

const slicesOf = (set: InstanceSet, micro: number) => {
  const out = [];
  for (let start = 0; start < set.count; start += micro) {
    const part = sliceInstances(set, start, micro);
    out.push({ set: part, weight: part.count / set.count });
  }
  return out;
};

const arrays = (grads: tf.NamedTensorMap, model: TinyLearned) => model.variables().map((v) => Array.from(grads[v.name]!.dataSync()));

const SMALL: Partial<TrainOptions> = { ...TINY_TRAINING, microBatch: 2, validateEvery: 3 };
const trainInstances = tinyTrainInstances;
const validationSet = tinyValidationSet();

describe('data-parallel meta-training', () => {
  it('gives the loss and gradient of a single-thread segment, and leaks no tensors on either side', async () => {
    const model = new TinyLearned({ seed: 1 });
    const set = tinyLassoSet(6, 5, 8, 2, new Rng(3));
    const before = tf.memory().numTensors;

    const parts: SegmentPart[] = slicesOf(set, 2).map(({ set: s, weight }) => {
      const batch = tinyLasso.toBatch(s);
      return { batch, weight, state: model.init(tinyLasso, batch) };
    });
    const single = [];
    for (const k0 of [0, 3]) {
      // Two segments, so the second starts from states the workers carried over.
      const { loss, grads } = await runSegment(model, tinyLasso, parts, k0, 3);
      single.push({ loss, grads: arrays(grads, model) });
      tf.dispose(grads);
    }
    for (const p of parts) {
      tf.dispose([p.state.x, p.state.y!]);
      tinyLasso.disposeBatch(p.batch);
    }

    const pool = await startSegmentPool(model, tinyLasso, 2, platform);
    const parallel = [];
    const workerTensors: number[][] = [];
    try {
      expect(pool.shards(3)).toEqual([
        [0, 1],
        [1, 3],
      ]);
      for (let step = 0; step < 3; step++) {
        await pool.beginStep(slicesOf(set, 2));
        for (const k0 of [0, 3]) {
          const { loss, grads } = await runParallelSegment(pool, model, k0, 3);
          if (step === 0) parallel.push({ loss, grads: arrays(grads, model) });
          tf.dispose(grads);
        }
        workerTensors.push(await pool.endStep());
      }
    } finally {
      await pool.terminate();
    }
    for (const [i, s] of single.entries()) {
      const p = parallel[i]!;
      expect(Math.abs(p.loss - s.loss)).toBeLessThan(1e-5 * Math.abs(s.loss));
      s.grads.forEach((g, v) => {
        const scale = Math.max(...g.map(Math.abs));
        p.grads[v]!.forEach((x, j) => expect(Math.abs(x - g[j]!)).toBeLessThan(1e-5 * scale + 1e-7));
      });
    }
    // After each step a worker holds what it held after the first: only its model.
    expect(workerTensors).toHaveLength(3);
    expect(new Set(workerTensors.flat())).toEqual(new Set([workerTensors[0]![0]]));
    expect(tf.memory().numTensors).toBe(before);
    expect(liveSegmentWorkers()).toBe(0);
    model.dispose();
  });

  it('trains to the weights of a single-thread run with the same seed, reproducibly', async () => {
    const opts = { ...SMALL, globalSteps: 6, seed: 5 };
    const one = new TinyLearned({ seed: 3 });
    await trainLearnedOptimizer({ problem: tinyLasso, model: one, validationSet, trainInstances }, opts);

    const two = new TinyLearned({ seed: 3 });
    const counts = new Map<number, number>();
    const result = await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model: two,
        validationSet,
        trainInstances,
        workerPlatform: platform,
        onProgress: (p) => {
          if (p.segment === p.segments - 1 && p.event === 'segment') counts.set(p.step, tf.memory().numTensors);
        },
      },
      { ...opts, workers: 2 },
    );
    expect(result.completedSteps).toBe(6);
    expect(result.validation.map((v) => v.step)).toEqual([3, 6]);
    const w1 = one.getWeights();
    for (const [name, w] of Object.entries(two.getWeights())) {
      const scale = Math.max(...w1[name]!.data.map(Math.abs));
      w.data.forEach((x, i) => expect(Math.abs(x - w1[name]!.data[i]!)).toBeLessThan(1e-5 * scale));
    }
    // The main thread's tensor count does not grow: constant from the first validation on (before
    // it, the snapshots the NaN guard keeps gain Adam's moments, which exist after the first update).
    expect(new Set([3, 4, 5].map((step) => counts.get(step))).size).toBe(1);
    expect(liveSegmentWorkers()).toBe(0);

    // With dropout, each worker draws from its own generator: the same seed gives the same weights.
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const model = new TinyLearned({ seed: 3, dropout: 0.2 });
      await trainLearnedOptimizer(
        { problem: tinyLasso, model, validationSet, trainInstances, workerPlatform: platform },
        { ...opts, globalSteps: 3, workers: 3 },
      );
      runs.push(model.getWeights());
      model.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    for (const m of [one, two]) m.dispose();
  });

  it('stops its workers when training is aborted', async () => {
    const model = new TinyLearned({ seed: 2 });
    const controller = new AbortController();
    const result = await trainLearnedOptimizer(
      {
        problem: tinyLasso,
        model,
        validationSet,
        trainInstances,
        workerPlatform: platform,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 1) controller.abort(); // like SIGINT during step 2: it stops, to be redone on resume
        },
      },
      { ...SMALL, globalSteps: 50, workers: 2 },
    );
    expect(result.interrupted).toBe(true);
    expect(result.completedSteps).toBe(1);
    expect(liveSegmentWorkers()).toBe(0);
    model.dispose();
  });

  it('turns a failing worker into a one-line error, without leaking tensors or threads', async () => {
    const fails = async (id: string) => {
      const model = named(id, { seed: 1 });
      const before = tf.memory().numTensors;
      const run = trainLearnedOptimizer(
        { problem: tinyLasso, model, validationSet, trainInstances, workerPlatform: platform },
        { ...SMALL, globalSteps: 4, workers: 2 },
      );
      const error = await run.then(
        () => null,
        (e: unknown) => e,
      );
      model.dispose();
      expect(tf.memory().numTensors).toBe(before - model.variables().length);
      expect(liveSegmentWorkers()).toBe(0);
      return error;
    };
    expect(await fails('tiny-throw')).toMatchObject({
      name: 'L2oError',
      message: expect.stringMatching(/^Training worker [12] of 2 failed: boom at iteration 2$/),
    });
    expect(await fails('tiny-exit')).toMatchObject({
      message: expect.stringMatching(/^Training worker [12] of 2 failed: exited unexpectedly \(exit code 3\)$/),
    });
    expect(await fails('nope')).toMatchObject({
      message: expect.stringMatching(/^Training worker [12] of 2 could not start: Unknown model 'nope'. .*Known models: tiny, tiny-exit, tiny-throw\.$/),
      hint: expect.stringMatching(/^Workers load plugins found from .*plugin\.mjs on engine cpu\.$/),
    });
  });

  it('rejects more workers than micro-batches, with a hint', async () => {
    const model = new TinyLearned();
    const train = (o: Partial<TrainOptions>) =>
      trainLearnedOptimizer({ problem: tinyLasso, model, validationSet, trainInstances, workerPlatform: platform }, { ...SMALL, ...o });
    await expect(train({ workers: 4, microBatch: 2 })).rejects.toThrow(
      /4 workers need at least 4 micro-batches per batch, but a batch of 6 with micro-batch 2 has 3/,
    );
    await expect(train({ workers: 2, microBatch: 6 })).rejects.toMatchObject({
      hint: expect.stringMatching(/micro-batch .* to at most 3, leave it unset to choose one, or use at most 1 worker\./),
    });
    // Automatic micro-batches: one per worker at least, so only a batch smaller than the workers is refused.
    await expect(train({ workers: 7, microBatch: 0 })).rejects.toMatchObject({
      message: expect.stringMatching(/7 workers need at least 7 micro-batches per batch, but a batch of 6 has at most 6\./),
      hint: expect.stringMatching(/Use at most 6 workers, or a batch of at least 7/),
    });
    await expect(train({ workers: 0 })).rejects.toThrow(/Option 'workers' of the training settings must be an integer ≥ 1, got 0/);
    expect(liveSegmentWorkers()).toBe(0);
    model.dispose();
  });
});
