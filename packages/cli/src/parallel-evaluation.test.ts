// Evaluation and the reference solve on worker threads give the numbers of one thread, bit for bit:
// each worker runs a contiguous block of whole batches with the real plugins it discovers itself.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootPlatform,
  drawInstances,
  evaluateOnWorkers,
  liveSegmentWorkers,
  solveReferenceOnWorkers,
  tf,
  workerPlatformOf,
  type EvaluationCurve,
  type InstanceSet,
  type LearnedOptimizer,
  type Optimizer,
  type Platform,
  type Problem,
} from '@l2o/core';
import { REPO_ROOT, runCli } from './test-utils/run-cli.js';

let platform: Platform;
let problem: Problem;
let set: InstanceSet;
const BATCH = 6; // 20 instances: batches of 6, 6, 6 and 2; two workers get 12 and 8
const K = 30;

beforeAll(async () => {
  platform = await bootPlatform({ backend: 'wasm', searchFrom: [REPO_ROOT] });
  problem = platform.registry.get('problem', 'lasso').create({});
  const dataset = platform.registry.get('dataset', 'synthetic').create({});
  set = await drawInstances(
    dataset,
    problem,
    { dataset: { id: 'synthetic', options: { preset: 'toy' } }, split: 'test', count: 20, seed: 3 },
    platform.datasetContext,
  );
});
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-parallel-eval-'));
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  expect(liveSegmentWorkers()).toBe(0);
});

const reference = (workers: number) =>
  solveReferenceOnWorkers(problem, platform.registry.get('optimizer', 'fista').create({}), set, {
    maxIterations: 2000,
    tolerance: 1e-6,
    checkEvery: 50,
    batchSize: BATCH,
    workers,
    workerPlatform: workerPlatformOf(platform),
  });

const withoutSeconds = ({ seconds: _s, ...rest }: EvaluationCurve) => rest;

async function curves(optimizer: Optimizer): Promise<[ReturnType<typeof withoutSeconds>, ReturnType<typeof withoutSeconds>]> {
  const run = async (workers: number) => {
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const curve = await evaluateOnWorkers(problem, optimizer, set, {
      iterations: K,
      batchSize: BATCH,
      workers,
      workerPlatform: workerPlatformOf(platform),
      onProgress: (done, total) => {
        expect(total).toBe(20);
        progress.push(done);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress.at(-1)).toBe(20);
    expect(liveSegmentWorkers()).toBe(0);
    return withoutSeconds(curve);
  };
  return [await run(1), await run(2)];
}

describe('evaluation on worker threads', () => {
  it('solves the reference to the same F*, solutions and residuals as one thread', async () => {
    const before = tf.memory().numTensors;
    const [one, two] = [await reference(1), await reference(2)];
    expect(tf.memory().numTensors).toBe(before);
    expect(two.float64).toBeDefined();
    expect(two).toEqual(one);
    expect(Array.from(two.fStar)).toEqual(Array.from(one.fStar));
    set.fStar = one.fStar;
    set.meta = { ...set.meta, reference: { float64: one.float64 } };
  });

  it('gives a baseline (fista) the curve of one thread, bit for bit', async () => {
    const [one, two] = await curves(platform.registry.get('optimizer', 'fista').create({}));
    expect(one.float64).toBe(true);
    expect(one.perInstance).toBeDefined();
    expect(two).toEqual(one);
  });

  it('gives a learned optimizer (a fresh gru, random initial state, safeguarded) the curve of one thread, bit for bit', async () => {
    const model = platform.registry.get('model', 'gru').create({ seed: 5, stateInit: 'random', stateInitScale: 0.1, safeguard: 'ista' });
    try {
      const [one, two] = await curves(model);
      expect(one.acceptance).toHaveLength(K);
      expect(two).toEqual(one);
    } finally {
      model.dispose();
    }
  });

  it('turns a worker that cannot build the optimizer into one clear error, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const fista = platform.registry.get('optimizer', 'fista').create({});
    // Not from the registry: the workers cannot rebuild it.
    const stranger: Optimizer = { id: 'not-registered', options: {}, init: fista.init.bind(fista), step: fista.step.bind(fista) };
    const error = await evaluateOnWorkers(problem, stranger, set, {
      iterations: K,
      batchSize: BATCH,
      workers: 2,
      workerPlatform: workerPlatformOf(platform),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      name: 'L2oError',
      message: expect.stringMatching(/^Evaluation worker [12] of 2 failed: Unknown optimizer 'not-registered'/),
    });
    // Bad weights (a checkpoint of another size): the same, from the worker that loads them.
    const model = platform.registry.get('model', 'gru').create({ seed: 5 });
    const broken = Object.create(model) as LearnedOptimizer;
    const weights = model.getWeights();
    const first = Object.keys(weights)[0]!;
    broken.getWeights = () => ({ ...weights, [first]: { shape: [1], data: [0] } });
    const bad = await evaluateOnWorkers(problem, broken, set, { iterations: K, batchSize: BATCH, workers: 2, workerPlatform: workerPlatformOf(platform) }).then(
      () => null,
      (e: unknown) => e,
    );
    model.dispose();
    expect(bad).toMatchObject({ name: 'L2oError', message: expect.stringMatching(/^Evaluation worker [12] of 2 failed: .*shape/) });
    expect(tf.memory().numTensors).toBe(before);
    expect(liveSegmentWorkers()).toBe(0);
  });

  it('l2o run --workers 2 writes the F* and curves of --workers 1', () => {
    const run = (workers: number) => {
      const dir = path.join(temp, `w${workers}`);
      // Smoke test sets are batches of 16: 24 instances are two batches, one per worker.
      const r = runCli(
        ['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--test-count', '24', '--workers', String(workers), '--json'],
        {
          env: { L2O_CACHE_DIR: path.join(dir, 'cache') },
          cwd: temp,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const testsets = path.join(dir, 'cache', 'testsets');
      const fStar = readFileSync(path.join(testsets, readdirSync(testsets)[0]!, 'f_star.npy'));
      const { curves } = JSON.parse(r.stdout) as { curves: EvaluationCurve[] };
      return { fStar, curves: curves.map(withoutSeconds) };
    };
    const [one, two] = [run(1), run(2)];
    expect(two.fStar.equals(one.fStar)).toBe(true);
    expect(two.curves).toEqual(one.curves);
  });
});
