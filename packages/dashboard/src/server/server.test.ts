import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { redisForTests } from '../../../sweep/src/test-utils/redis-server.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComparisonSpec, EvaluationCurve, OptimizerSummary, RunRecord } from '@l2o/core';
import { writeFigureData } from '@l2o/report';
import { openRunStore } from '@l2o/store';
import {
  connectionOf,
  LocalSweepStatus,
  markCancelled,
  openRedis,
  QUEUE_NAME,
  saveSweepRecord,
  type SweepEvent,
  type SweepJob,
  type SweepPlan,
  type SweepRecord,
} from '@l2o/sweep';
import { dashboardApp, runQuery, startDashboard, type Dashboard, type DashboardOptions } from './server.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-'));
const storeDir = path.join(temp, 'store');
const resultsDir = path.join(temp, 'results');
const webDir = path.join(temp, 'web');

// The queued-sweep tests need a Redis: the one L2O_TEST_REDIS names, else a redis-server started here.
const redis = await redisForTests();
if ('skip' in redis) {
  if (process.env.L2O_REQUIRE_REDIS) throw new Error(`dashboard tests: no Redis server: ${redis.skip}`);
  console.warn(`dashboard tests: the queued-sweep tests are skipped: ${redis.skip}`);
}

/** A curve whose mean relative gap is `gap` (K = gap.length − 1 iterations). */
function curve(label: string, gap: number[]): EvaluationCurve {
  const meanF = gap.map((g) => 1 + g);
  return {
    optimizer: label,
    instances: 8,
    gapInstances: 8,
    meanF,
    meanGap: gap,
    finalGap: gap.at(-1)!,
    iterationsTo: { '0.01': null },
    divergedAt: null,
    seconds: 0.5,
  };
}

/** An optimizer's summary entry as runComparison writes it from its curve. */
function entry(c: EvaluationCurve, kind: OptimizerSummary['kind'], id = c.optimizer): OptimizerSummary {
  const { optimizer: label, finalGap, iterationsTo, divergedAt, seconds: evaluationSeconds } = c;
  return { label, id, kind, options: {}, finalGap, finalF: c.meanF.at(-1)!, iterationsTo, divergedAt, evaluationSeconds };
}

function checkpointText(model: string, seed: number): string {
  return JSON.stringify({ format: 'l2o-checkpoint/1', modelId: model, config: { hidden: 16, seed }, parameterCount: 4594, weights: {} });
}

interface Fixture {
  id: string;
  name: string;
  problem: string;
  dataset: string;
  scale: string;
  seed: number;
  createdAt: string;
  learned: { label: string; gap: number[] };
  baseline: { label: string; gap: number[] };
  /** Imported from a run directory without config.json: the stored config is {}. */
  noConfig?: boolean;
}

function run(f: Fixture): RunRecord {
  const learned = curve(f.learned.label, f.learned.gap);
  const baseline = curve(f.baseline.label, f.baseline.gap);
  const checkpoint = checkpointText(f.learned.label, f.seed);
  return {
    id: f.id,
    summary: {
      name: f.name,
      problem: { id: f.problem, options: {} },
      trainDataset: { id: f.dataset, options: {} },
      testDataset: { id: f.dataset, options: {} },
      testInstances: 8,
      iterations: f.learned.gap.length - 1,
      scale: f.scale,
      seed: f.seed,
      engine: 'wasm',
      training: { globalSteps: 2 },
      optimizers: [{ ...entry(learned, 'learned'), parameters: 4594, trainingSeconds: 3 }, entry(baseline, 'baseline')],
      createdAt: f.createdAt,
    },
    // As runComparison writes config.json: the spec (with name and seed) under `spec`.
    spec: f.noConfig
      ? {}
      : {
          spec: { name: f.name, seed: f.seed, description: `${f.name}: a test experiment` },
          scale: { name: f.scale },
          training: { globalSteps: 2 },
        },
    curves: [learned, baseline],
    checkpoints: { [f.learned.label]: checkpoint },
    artifacts: { 'summary.md': '# run\n' },
    versions: { '@l2o/core': '0.1.0' },
  };
}

// Two seeds of figX at cpu scale whose mean over seeds is a closed form, and one other run.
const FIXTURES: Fixture[] = [
  {
    id: 'figx-s0',
    name: 'figX',
    problem: 'lasso',
    dataset: 'synthetic',
    scale: 'cpu',
    seed: 0,
    createdAt: '2026-11-29T09:00:00.000Z',
    learned: { label: 'gru-mha', gap: [1, 0.5, 0.25] },
    baseline: { label: 'fista', gap: [0.5, 0.1, 0] },
  },
  {
    id: 'figx-s1',
    name: 'figX',
    problem: 'lasso',
    dataset: 'synthetic',
    scale: 'cpu',
    seed: 1,
    createdAt: '2026-11-29T08:00:00.000Z',
    learned: { label: 'gru-mha', gap: [3, 1.5, 0.75] },
    baseline: { label: 'fista', gap: [0.5, 0.3, 0] },
    // The name and seed filters and the figure read the run's own columns, not its config.
    noConfig: true,
  },
  {
    id: 'logreg-s2',
    name: 'logreg',
    problem: 'logistic-l1',
    dataset: 'ionosphere',
    scale: 'smoke',
    seed: 2,
    createdAt: '2026-11-29T10:00:00.000Z',
    learned: { label: 'lstm', gap: [0.8, 0.4] },
    baseline: { label: 'ista', gap: [0.9, 0.6] },
  },
];
const RUNS = FIXTURES.map(run);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const VERDICT = 'Reproduced: the learned optimizer reaches a smaller gap than FISTA.\n\n### Details\n\nAt every iteration, over both seeds.';

let main: ReturnType<typeof dashboardApp>;

beforeAll(async () => {
  const store = await openRunStore(storeDir);
  try {
    for (const r of RUNS) expect(await store.saveRun(r)).toEqual({ id: r.id, created: true });
  } finally {
    // An embedded store admits one handle at a time: the app opens its own.
    await store.close();
  }
  mkdirSync(resultsDir);
  writeFileSync(path.join(resultsDir, 'figX.md'), `# Figure X\n\nWhat the paper shows.\n\n## Verdict\n\n${VERDICT}\n\n## Notes\n\nNot part of the verdict.\n`);
  mkdirSync(webDir);
  writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>l2o dashboard</title>');
  writeFileSync(path.join(webDir, 'secret.txt'), 'not served');
  writeFileSync(path.join(temp, 'outside.html'), '<p>outside the web folder</p>');
  main = dashboardApp({ store: storeDir, resultsDir, webDir });
});

afterAll(async () => {
  await main?.close();
  if ('stop' in redis) await redis.stop();
  rmSync(temp, { recursive: true, force: true });
});

async function call(app: ReturnType<typeof dashboardApp>['app'], url: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: any }> {
  const res = await app.request(url, init);
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, type, body: type?.startsWith('application/json') && text ? JSON.parse(text) : text };
}

const get = (url: string, init?: RequestInit) => call(main.app, url, init);
/** The ids of an /api/runs answer, in its order. */
const ids = (body: any): string[] => (body.runs as { id: string }[]).map((r) => r.id);

/** A 4xx answer: JSON with a message and nothing else (no stack trace). */
async function expectError(url: string, status: 400 | 404, message: RegExp, init?: RequestInit): Promise<void> {
  const res = await get(url, init);
  expect(res.status, url).toBe(status);
  expect(res.type).toMatch(/^application\/json/);
  expect(Object.keys(res.body as object)).toEqual(['error']);
  expect(res.body.error).toMatch(message);
  expect(res.body.error).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
}

describe('GET /api/runs', () => {
  it('lists every run, newest first', async () => {
    const res = await get('/api/runs');
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(['logreg-s2', 'figx-s0', 'figx-s1']);
    const s0 = res.body.runs.find((r: { id: string }) => r.id === 'figx-s0');
    expect(s0).toMatchObject({ name: 'figX', problem: 'lasso', testDataset: 'synthetic', scale: 'cpu', seed: 0, createdAt: '2026-11-29T09:00:00.000Z' });
    expect(s0.optimizers).toEqual([
      { label: 'gru-mha', id: 'gru-mha', kind: 'learned', finalGap: 0.25, divergedAt: null },
      { label: 'fista', id: 'fista', kind: 'baseline', finalGap: 0, divergedAt: null },
    ]);
  });

  it.each([
    ['model=gru-mha', ['figx-s0', 'figx-s1']],
    ['model=lstm', ['logreg-s2']],
    ['model=fista', ['figx-s0', 'figx-s1']],
    ['model=nope', []],
    ['problem=logistic-l1', ['logreg-s2']],
    ['problem=lasso', ['figx-s0', 'figx-s1']],
    ['dataset=ionosphere', ['logreg-s2']],
    ['dataset=synthetic', ['figx-s0', 'figx-s1']],
    ['scale=cpu', ['figx-s0', 'figx-s1']],
    ['scale=smoke', ['logreg-s2']],
    ['seed=1', ['figx-s1']],
    ['seed=0', ['figx-s0']],
    ['seed=9', []],
    ['name=figX', ['figx-s0', 'figx-s1']],
    ['name=logreg', ['logreg-s2']],
    ['since=2026-11-29T08:30:00Z', ['logreg-s2', 'figx-s0']],
    ['since=2099-01-01', []],
    ['scale=cpu&seed=0', ['figx-s0']],
    ['problem=lasso&dataset=ionosphere', []],
  ])('filters with %s', async (query, expected) => {
    const res = await get(`/api/runs?${query}`);
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(expected);
  });

  it('sorts by seed in either order', async () => {
    expect(ids((await get('/api/runs?sort=seed&order=asc')).body)).toEqual(['figx-s0', 'figx-s1', 'logreg-s2']);
    expect(ids((await get('/api/runs?sort=seed')).body)).toEqual(['figx-s0', 'figx-s1', 'logreg-s2']);
    expect(ids((await get('/api/runs?sort=seed&order=desc')).body)).toEqual(['logreg-s2', 'figx-s1', 'figx-s0']);
    expect(ids((await get('/api/runs?sort=created&order=asc')).body)).toEqual(['figx-s1', 'figx-s0', 'logreg-s2']);
    expect(ids((await get('/api/runs?sort=problem&order=desc')).body)).toEqual(['logreg-s2', 'figx-s1', 'figx-s0']);
  });

  it('answers bad input with 400 and a message', async () => {
    await expectError('/api/runs?colour=red', 400, /Unknown query parameter 'colour'/);
    await expectError('/api/runs?seed=x', 400, /seed must be a whole number.*'x'/);
    await expectError('/api/runs?seed=-1', 400, /seed must be a whole number/);
    await expectError('/api/runs?since=yesterday', 400, /since must be a date.*'yesterday'/);
    await expectError('/api/runs?since=2026-13-45', 400, /since must be a date/);
    await expectError('/api/runs?sort=bogus', 400, /sort must be one of .*'bogus'/);
    await expectError('/api/runs?order=up', 400, /order must be asc or desc, got 'up'/);
  });

  it('runQuery: the checked filter', () => {
    expect(runQuery({})).toEqual({ filter: {}, sort: 'created', order: 'desc' });
    expect(runQuery({ model: 'gru-mha', scale: '', seed: '3', name: 'figX', since: '2026-11-29', sort: 'name' })).toEqual({
      filter: {
        model: 'gru-mha',
        seed: 3,
        name: 'figX',
        since: new Date('2026-11-29'),
      },
      sort: 'name',
      order: 'asc',
    });
    expect(() => runQuery({ seed: '1.5' })).toThrow(/seed must be a whole number/);
    // The seed is a number: 03 is seed 3.
    expect(runQuery({ seed: '03' }).filter).toEqual({ seed: 3 });
  });
});

describe('GET /api/runs/:id', () => {
  it("gives a run's summary, config and checkpoints", async () => {
    const res = await get('/api/runs/figx-s1');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('figx-s1');
    expect(res.body.summary).toMatchObject({ name: 'figX', seed: 1, scale: 'cpu', iterations: 2, problem: { id: 'lasso' }, testDataset: { id: 'synthetic' } });
    expect(res.body.summary.optimizers.map((o: { label: string; finalGap: number }) => [o.label, o.finalGap])).toEqual([
      ['gru-mha', 0.75],
      ['fista', 0],
    ]);
    expect(res.body.config).toEqual(RUNS[1]!.spec);
    expect(res.body.versions).toEqual({ '@l2o/core': '0.1.0' });
    expect(res.body.gitCommit).toBeNull();
    expect(res.body.checkpoints).toEqual([{ label: 'gru-mha', modelId: 'gru-mha' }]);
  });

  it('unknown id: 404; malformed id or a query: 400', async () => {
    await expectError('/api/runs/nope', 404, /No run 'nope' in the store/);
    await expectError('/api/runs/..%2Fetc', 400, /is not a run id/);
    await expectError('/api/runs/a b', 400, /'a b' is not a run id/);
    await expectError('/api/runs/figx-s0?x=1', 400, /Unknown query parameter 'x'; known: none/);
  });
});

describe('GET /api/runs/:id/curves', () => {
  it('gives the stored curves', async () => {
    const res = await get('/api/runs/figx-s0/curves');
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('figx-s0');
    const byLabel = Object.fromEntries((res.body.curves as EvaluationCurve[]).map((c) => [c.optimizer, c]));
    expect(Object.keys(byLabel).sort()).toEqual(['fista', 'gru-mha']);
    expect(byLabel['gru-mha']!.meanGap).toEqual([1, 0.5, 0.25]);
    expect(byLabel['gru-mha']!.meanF).toEqual([2, 1.5, 1.25]);
    expect(byLabel.fista!.meanGap).toEqual([0.5, 0.1, 0]);
    expect(byLabel.fista!.meanF).toEqual([1.5, 1.1, 1]);
    await expectError('/api/runs/nope/curves', 404, /No run 'nope'/);
  });
});

describe('GET /api/plot', () => {
  it('plots one run with its own labels', async () => {
    const res = await get('/api/plot?runs=logreg-s2');
    expect(res.status).toBe(200);
    expect(res.body.runs).toEqual(['logreg-s2']);
    expect(res.body.spec.$schema).toMatch(/vega-lite/);
    expect(res.body.spec.title.text).toBe('logreg (smoke, seed 2)');
    expect(res.body.spec.data.values).toEqual([
      { optimizer: 'lstm', iteration: 0, gap: 0.8 },
      { optimizer: 'lstm', iteration: 1, gap: 0.4 },
      { optimizer: 'ista', iteration: 0, gap: 0.9 },
      { optimizer: 'ista', iteration: 1, gap: 0.6 },
    ]);
  });

  it('plots several runs, each curve labelled with its run id', async () => {
    const res = await get('/api/plot?runs=figx-s0,figx-s1');
    expect(res.status).toBe(200);
    expect(res.body.runs).toEqual(['figx-s0', 'figx-s1']);
    const values: { optimizer: string; iteration: number; gap: number }[] = res.body.spec.data.values;
    expect([...new Set(values.map((v) => v.optimizer))]).toEqual(['figx-s0 · gru-mha', 'figx-s0 · fista', 'figx-s1 · gru-mha', 'figx-s1 · fista']);
    const gaps = (label: string) => values.filter((v) => v.optimizer === label).map((v) => v.gap);
    expect(gaps('figx-s0 · gru-mha')).toEqual([1, 0.5, 0.25]);
    expect(gaps('figx-s1 · gru-mha')).toEqual([3, 1.5, 0.75]);
    // A gap of 0 is drawn at the floor of the log axis.
    expect(gaps('figx-s1 · fista')).toEqual([0.5, 0.3, 1e-12]);
  });

  it('no runs, too many or malformed: 400; unknown: 404', async () => {
    await expectError('/api/plot', 400, /Give the runs to plot/);
    await expectError('/api/plot?runs=', 400, /Give the runs to plot/);
    await expectError(`/api/plot?runs=${Array(13).fill('figx-s0').join(',')}`, 400, /At most 12 runs in one plot, got 13/);
    await expectError('/api/plot?runs=figx-s0,nope', 404, /No run 'nope'/);
    await expectError('/api/plot?runs=figx-s0,a%20b', 400, /is not a run id/);
    await expectError('/api/plot?runs=figx-s0&x=1', 400, /Unknown query parameter 'x'/);
  });
});

describe('GET /api/figures', () => {
  const figX = { name: 'figX', scale: 'cpu', problem: 'lasso', testDataset: 'synthetic', seeds: [0, 1], runs: ['figx-s0', 'figx-s1'], source: 'store' };
  const logreg = { name: 'logreg', scale: 'smoke', problem: 'logistic-l1', testDataset: 'ionosphere', seeds: [2], runs: ['logreg-s2'], source: 'store' };

  it('lists one figure per experiment and scale, without verdicts when there is no results folder', async () => {
    // The main app lets go of the store so that this one can open it at once.
    await main.close();
    const bare = dashboardApp({ store: storeDir });
    try {
      const res = await call(bare.app, '/api/figures');
      expect(res.status).toBe(200);
      expect(res.body.figures).toEqual([
        { ...figX, verdict: null },
        { ...logreg, verdict: null },
      ]);
    } finally {
      await bare.close();
    }
  });

  it("takes a figure's verdict from <resultsDir>/<name>.md", async () => {
    const res = await get('/api/figures');
    expect(res.status).toBe(200);
    expect(res.body.figures).toEqual([
      { ...figX, verdict: VERDICT },
      { ...logreg, verdict: null },
    ]);
    await expectError('/api/figures?x=1', 400, /Unknown query parameter 'x'/);
  });

  it('aggregates a figure over its seeds', async () => {
    const res = await get('/api/figures/figX?scale=cpu');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...figX, scales: ['cpu'], description: 'figX: a test experiment', verdict: VERDICT });
    expect(res.body.spec.$schema).toMatch(/vega-lite/);
    const values: { optimizer: string; iteration: number; gap: number | null; lower: number | null; upper: number | null }[] = res.body.spec.data.values;
    const of = (label: string) => values.filter((v) => v.optimizer === label).sort((a, b) => a.iteration - b.iteration);
    expect(of('gru-mha').map((v) => v.iteration)).toEqual([0, 1, 2]);
    // The mean of [1, 0.5, 0.25] and [3, 1.5, 0.75].
    expect(of('gru-mha').map((v) => v.gap)).toEqual([2, 1, 0.5]);
    // The mean of [0.5, 0.1, 0] and [0.5, 0.3, 0]; a mean of 0 is drawn at the floor 1e-12.
    const fista = of('fista').map((v) => v.gap!);
    expect(fista).toHaveLength(3);
    expect(fista[0]).toBe(0.5);
    expect(fista[1]).toBeCloseTo(0.2, 12);
    expect(fista[2]).toBe(1e-12);
    // Two seeds: half-width t(0.975, 1) · |a − b| / 2, with t(0.975, 1) = tan(0.475π).
    const t = Math.tan(0.475 * Math.PI);
    of('gru-mha').forEach((v, k) => {
      expect(v.upper).toBeCloseTo(v.gap! + t / 2 ** k, 6);
      expect(v.lower).toBe(1e-12);
    });
    expect(of('fista')[0]).toMatchObject({ lower: 0.5, upper: 0.5 });
    expect(typeof res.body.table).toBe('string');
    expect(res.body.table).toMatch(/^\|/m);
    expect(res.body.table).toContain('gru-mha');
    expect(res.body.table).toContain('fista');
    // Without a scale: the first of the figure's scales.
    const plain = await get('/api/figures/figX');
    expect(plain.status).toBe(200);
    expect(plain.body.spec.data.values).toEqual(res.body.spec.data.values);
  });

  it('unknown figure or scale: 404; unknown query parameter: 400', async () => {
    await expectError('/api/figures/nope', 404, /No runs of 'nope' in the store/);
    await expectError('/api/figures/figX?scale=gpu', 404, /No runs of 'figX' at scale 'gpu'/);
    await expectError('/api/figures/figX?seed=0', 400, /Unknown query parameter 'seed'; known: scale/);
  });

  describe("a figure's kept data (<resultsDir>/data/<name>.json, written by l2o results)", () => {
    const keptDir = path.join(temp, 'kept-results');
    const emptyStore = path.join(temp, 'empty-store');
    // figK kept over seeds 0 and 1 (the curves of figX's runs, renamed); figX kept as well, which
    // the main store also holds; and a file that is not kept data.
    const keptRuns = (name: string) =>
      RUNS.filter((r) => r.summary.name === 'figX').map((r) => ({
        id: r.id.replace('figx', name.toLowerCase()),
        summary: { ...r.summary, name },
        curves: r.curves,
      }));
    const figK = { name: 'figK', scale: 'cpu', problem: 'lasso', testDataset: 'synthetic', seeds: [0, 1], runs: ['figk-s0', 'figk-s1'] };
    const keptFile = (name: string) => path.join(keptDir, 'data', `${name}.json`);
    const KEPT_VERDICT = 'Kept: figK reproduced over two seeds.';

    beforeAll(() => {
      for (const name of ['figK', 'figX']) writeFigureData(keptDir, { name, runs: keptRuns(name), validation: [] });
      writeFileSync(keptFile('broken'), '{"format": 1');
      writeFileSync(path.join(keptDir, 'figK.md'), `# Figure K\n\n## Verdict\n\n${KEPT_VERDICT}\n`);
    });

    it('with an empty store: lists the kept figures with their seeds and where they came from, and draws their curves', async () => {
      await main.close();
      const app = dashboardApp({ store: emptyStore, resultsDir: keptDir });
      try {
        const res = await call(app.app, '/api/figures');
        expect(res.status).toBe(200);
        expect(res.body.figures).toEqual([
          { ...figK, source: 'kept', keptFile: keptFile('figK'), verdict: KEPT_VERDICT },
          { ...figX, runs: ['figk-s0', 'figk-s1'].map((id) => id.replace('figk', 'figx')), source: 'kept', keptFile: keptFile('figX'), verdict: null },
        ]);
        // A file that is not kept data: its reason and fix, without hiding the others.
        expect(res.body.keptErrors).toEqual([expect.stringMatching(/broken\.json is not valid JSON .*Restore it from git/)]);

        const one = await call(app.app, '/api/figures/figK');
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({ ...figK, source: 'kept', keptFile: keptFile('figK'), scales: ['cpu'], description: null, verdict: KEPT_VERDICT });
        const values: { optimizer: string; iteration: number; gap: number }[] = one.body.spec.data.values;
        const gru = values.filter((v) => v.optimizer === 'gru-mha').sort((a, b) => a.iteration - b.iteration);
        // The mean of the kept [1, 0.5, 0.25] and [3, 1.5, 0.75].
        expect(gru.map((v) => v.gap)).toEqual([2, 1, 0.5]);
        expect(one.body.table).toContain('gru-mha');
        expect((await call(app.app, '/api/figures/figK?scale=gpu')).body.error).toBe(
          `No runs of 'figK' at scale 'gpu' in the store or kept in ${path.join(keptDir, 'data')}.`,
        );
        // The unreadable file, asked for by name: its one-line reason.
        const broken = await call(app.app, '/api/figures/broken');
        expect(broken.status).toBe(500);
        expect(broken.body.error).toMatch(/^\S*broken\.json is not valid JSON .*Restore it from git/);
      } finally {
        await app.close();
      }
    });

    it("the store's runs of a figure and scale win over its kept data", async () => {
      const app = dashboardApp({ store: storeDir, resultsDir: keptDir });
      try {
        const res = await call(app.app, '/api/figures');
        expect(res.body.figures.map((f: { name: string; source: string }) => `${f.name} ${f.source}`)).toEqual(['figK kept', 'figX store', 'logreg store']);
        const one = await call(app.app, '/api/figures/figX');
        expect(one.body).toMatchObject({ ...figX, description: 'figX: a test experiment' });
        expect(one.body.keptFile).toBeUndefined();
      } finally {
        await app.close();
      }
    });
  });
});

describe('GET /api/sweeps', () => {
  it('follows no local sweeps and no queue without --sweeps and --queue', async () => {
    const res = await get('/api/sweeps');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ queue: null, sweepsDir: null, sweeps: [] });
    await expectError('/api/sweeps/x', 404, /No local sweep 'x', and no queue is followed .*--queue redis:/);
    await expectError('/api/sweeps?x=1', 400, /Unknown query parameter 'x'; known: none/);
  });

  it('lists no local sweeps while their folder does not exist', async () => {
    const missing = path.join(temp, 'no-sweeps-here');
    const app = dashboardApp({ store: storeDir, sweepsDir: missing });
    try {
      const res = await call(app.app, '/api/sweeps');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ queue: null, sweepsDir: missing, sweeps: [] });
    } finally {
      await app.close();
    }
  });
});

// A hand-made plan: two trainings, an evaluation of the first and a run (only comparison.seed is read).
const comparison = (seed: number) => ({ seed }) as unknown as ComparisonSpec;
const TRAIN0: SweepJob = { kind: 'train', key: 'train-lstm-s0', label: 'lstm', comparison: comparison(0) };
const TRAIN1: SweepJob = { kind: 'train', key: 'train-lstm-s1', label: 'lstm', comparison: comparison(1) };
const EVALUATE: SweepJob = { kind: 'evaluate', key: 'evaluate-lstm-s0', label: 'lstm', comparison: comparison(0), train: TRAIN0.key };
const RUN: SweepJob = { kind: 'run', key: 'figS-s0', comparison: comparison(0), evaluations: [EVALUATE.key] };
const PLAN: SweepPlan = {
  name: 'figS',
  request: { spec: '/specs/figS.yaml', scale: 'smoke', seeds: [0, 1], grid: [] },
  comparisons: [],
  jobs: [TRAIN0, TRAIN1, EVALUATE, RUN],
};
const sweepsDir = path.join(temp, 'sweeps');
const LOCAL_ID = 'sweep-figS-smoke-0123456789';
const COUNTS0 = { waiting: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };

/** The statuses of a plan's jobs before any event. */
const waitingJobs = () => [
  { id: TRAIN0.key, kind: 'train', key: TRAIN0.key, label: 'lstm', seed: 0, state: 'waiting', attempts: 0 },
  { id: TRAIN1.key, kind: 'train', key: TRAIN1.key, label: 'lstm', seed: 1, state: 'waiting', attempts: 0 },
  { id: EVALUATE.key, kind: 'evaluate', key: EVALUATE.key, label: 'lstm', seed: 0, state: 'waiting', attempts: 0 },
  { id: RUN.key, kind: 'run', key: RUN.key, seed: 0, state: 'waiting', attempts: 0 },
];

describe('GET /api/sweeps: local sweeps (--sweeps)', () => {
  let app: ReturnType<typeof dashboardApp>;
  let live: LocalSweepStatus;
  const sweepsGet = (url: string) => call(app.app, url);

  beforeAll(() => {
    app = dashboardApp({ store: storeDir, sweepsDir });
  });
  afterAll(async () => {
    // Clears a throttled write still pending, if a test failed before the end.
    live?.finish(true);
    await app?.close();
  });

  it('lists a local sweep from the status file written at its start', async () => {
    live = new LocalSweepStatus(path.join(sweepsDir, LOCAL_ID, 'status.json'), LOCAL_ID, PLAN, 2);
    const res = await sweepsGet('/api/sweeps');
    expect(res.status).toBe(200);
    expect(res.body.queue).toBeNull();
    expect(res.body.sweepsDir).toBe(sweepsDir);
    expect(res.body.sweeps).toHaveLength(1);
    const [sweep] = res.body.sweeps;
    expect(sweep).toEqual({
      id: LOCAL_ID,
      name: 'figS',
      cancelled: false,
      counts: { ...COUNTS0, waiting: 4 },
      jobs: waitingJobs(),
      etaSeconds: null,
      finished: false,
      updatedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      where: 'local',
    });
  });

  it("follows the sweep's events, written at most once a second", async () => {
    const events: SweepEvent[] = [
      { kind: 'start', job: TRAIN0, attempt: 1 },
      { kind: 'done', job: TRAIN0, seconds: 6, skipped: false },
      { kind: 'start', job: TRAIN1, attempt: 1 },
      { kind: 'progress', job: TRAIN1, progress: { phase: 'train', done: 1, total: 4 } },
      { kind: 'start', job: EVALUATE, attempt: 1 },
      // A retry: back to waiting, then failed for good on the second attempt.
      { kind: 'failed', job: EVALUATE, message: 'process died', attempt: 1, final: false },
      { kind: 'start', job: EVALUATE, attempt: 2 },
      { kind: 'failed', job: EVALUATE, message: 'boom: NaN loss', attempt: 2, final: true },
    ];
    for (const e of events) live.handle(e);
    // Not written yet: the file still says what it said at the start.
    expect((await sweepsGet(`/api/sweeps/${LOCAL_ID}`)).body.counts).toEqual({ ...COUNTS0, waiting: 4 });

    await vi.waitFor(
      async () => {
        expect((await sweepsGet(`/api/sweeps/${LOCAL_ID}`)).body.counts.waiting).toBe(1);
      },
      { timeout: 3000, interval: 100 },
    );
    const list = await sweepsGet('/api/sweeps');
    expect(list.status).toBe(200);
    expect(list.body.sweeps.map((s: { id: string; where: string }) => [s.id, s.where])).toEqual([[LOCAL_ID, 'local']]);
    const [listed] = list.body.sweeps;
    expect(listed.counts).toEqual({ waiting: 1, active: 1, completed: 1, failed: 1, cancelled: 0 });
    expect(listed.finished).toBe(false);
    expect(listed.cancelled).toBe(false);
    // The ETA: the mean time of the finished compute jobs (6 s) times the work left, the 3/4 of
    // TRAIN1 still to do (the waiting job is the run, which is no compute), over min(2 workers, 1 active).
    expect(listed.etaSeconds).toBeCloseTo((6 * (1 - 1 / 4)) / Math.min(2, 1), 12);

    const one = await sweepsGet(`/api/sweeps/${LOCAL_ID}`);
    expect(one.status).toBe(200);
    const { updatedAt: _updatedAt, ...listedRest } = listed;
    const { updatedAt, ...oneRest } = one.body;
    expect(updatedAt).toBe(listed.updatedAt);
    expect(oneRest).toEqual(listedRest);
    const [train0, train1, evaluate, run] = waitingJobs();
    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(one.body.jobs).toEqual([
      { ...train0, state: 'completed', attempts: 1, seconds: 6, result: { skipped: false }, startedAt: iso, finishedAt: iso },
      { ...train1, state: 'active', attempts: 1, progress: { phase: 'train', done: 1, total: 4, worker: 'local' }, startedAt: iso },
      { ...evaluate, state: 'failed', attempts: 2, error: 'boom: NaN loss', startedAt: iso, finishedAt: iso },
      run,
    ]);
  });

  it('after finish(false) nothing is waiting or active, and the sweep is finished', async () => {
    live.finish(false);
    const res = await sweepsGet(`/api/sweeps/${LOCAL_ID}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: LOCAL_ID, where: 'local', finished: true, cancelled: false, etaSeconds: 0 });
    expect(res.body.counts).toEqual({ ...COUNTS0, completed: 1, failed: 3 });
    const states = (res.body.jobs as { key: string; state: string; error?: string }[]).map(({ key, state, error }) => [key, state, error]);
    expect(states).toEqual([
      [TRAIN0.key, 'completed', undefined],
      [TRAIN1.key, 'failed', 'did not finish'],
      [EVALUATE.key, 'failed', 'boom: NaN loss'],
      [RUN.key, 'failed', 'not run: a job it needs failed'],
    ]);
  });

  it('lists every local sweep, newest first, and leaves out folders without a readable status', async () => {
    // An interrupted sweep: its jobs that had not ended are cancelled.
    const interruptedId = 'sweep-figS-smoke-abcdefabcd';
    const interrupted = new LocalSweepStatus(path.join(sweepsDir, interruptedId, 'status.json'), interruptedId, PLAN, 1);
    interrupted.handle({ kind: 'start', job: TRAIN0, attempt: 1 });
    interrupted.finish(true);
    // An old sweep's file, a status file that does not parse, a folder without one and a stray file.
    mkdirSync(path.join(sweepsDir, 'sweep-old'));
    writeFileSync(
      path.join(sweepsDir, 'sweep-old', 'status.json'),
      JSON.stringify({
        id: 'sweep-old',
        name: 'old',
        cancelled: false,
        counts: COUNTS0,
        jobs: [],
        etaSeconds: null,
        finished: true,
        updatedAt: '2020-01-01T00:00:00.000Z',
      }),
    );
    mkdirSync(path.join(sweepsDir, 'sweep-broken'));
    writeFileSync(path.join(sweepsDir, 'sweep-broken', 'status.json'), '{"id": "sweep-bro');
    mkdirSync(path.join(sweepsDir, 'sweep-empty'));
    writeFileSync(path.join(sweepsDir, 'notes.txt'), 'not a sweep');

    const res = await sweepsGet('/api/sweeps');
    expect(res.status).toBe(200);
    const sweeps: { id: string; where: string; updatedAt: string; counts: Record<string, number>; cancelled: boolean }[] = res.body.sweeps;
    expect(sweeps.map((s) => s.id).sort()).toEqual([LOCAL_ID, interruptedId, 'sweep-old'].sort());
    expect(sweeps.every((s) => s.where === 'local')).toBe(true);
    const times = sweeps.map((s) => s.updatedAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(sweeps.at(-1)!.id).toBe('sweep-old');
    const cancelled = sweeps.find((s) => s.id === interruptedId)!;
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.counts).toEqual({ ...COUNTS0, cancelled: 4 });
    expect((await sweepsGet('/api/sweeps/sweep-old')).body).toMatchObject({ id: 'sweep-old', name: 'old', where: 'local' });
    expect((await sweepsGet('/api/sweeps/sweep-broken')).status).toBe(404);
  });

  it('unknown id without a queue: 404 naming --queue; malformed id or a query: 400', async () => {
    const res = await sweepsGet('/api/sweeps/nope');
    expect(res.status).toBe(404);
    expect(Object.keys(res.body as object)).toEqual(['error']);
    expect(res.body.error).toContain(`No local sweep 'nope' in ${sweepsDir}`);
    expect(res.body.error).toMatch(/--queue redis:/);
    for (const [url, shown] of [
      ['/api/sweeps/a b', 'a b'],
      ['/api/sweeps/a%20b', 'a b'],
      ['/api/sweeps/..%2Fx', '../x'],
      [`/api/sweeps/..%2F${LOCAL_ID}`, `../${LOCAL_ID}`],
    ]) {
      const bad = await sweepsGet(url!);
      expect(bad.status, url).toBe(400);
      expect(bad.body).toEqual({ error: `'${shown}' is not a sweep id.` });
    }
    const query = await sweepsGet(`/api/sweeps/${LOCAL_ID}?x=1`);
    expect(query.status).toBe(400);
    expect(query.body.error).toMatch(/Unknown query parameter 'x'; known: none/);
  });
});

describe('GET /api/sweeps: an unreachable queue', () => {
  it('lists the local sweeps with the queue’s one-line reason (no password); a queued sweep’s page answers 500 with it', async () => {
    const app = dashboardApp({ store: storeDir, sweepsDir, queue: 'redis://:s3cret@127.0.0.1:1' });
    try {
      const list = await call(app.app, '/api/sweeps');
      expect(list.status).toBe(200);
      expect((list.body.sweeps as { id: string; where: string }[]).map((s) => s.where)).toEqual(expect.arrayContaining(['local']));
      expect(list.body.queueError).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is not reachable/);
      expect(JSON.stringify(list.body)).not.toContain('s3cret');
      const res = await call(app.app, '/api/sweeps/nope');
      expect(res.status).toBe(500);
      expect(Object.keys(res.body as object)).toEqual(['error']);
      expect(res.body.error).toMatch(/^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is not reachable/);
      expect(res.body.error).not.toContain('s3cret');
      expect(res.body.error).not.toMatch(/\n/);
      const local = await call(app.app, `/api/sweeps/${LOCAL_ID}`);
      expect(local.status).toBe(200);
      expect(local.body).toMatchObject({ id: LOCAL_ID, where: 'local' });
    } finally {
      await app.close();
    }
  });
});

describe.skipIf(!('url' in redis))('GET /api/sweeps: queued sweeps (Redis)', () => {
  const url = 'url' in redis ? redis.url : '';
  const QUEUED_ID = 'sweep-figQ-smoke-0123456789-m1abc';
  const record: SweepRecord = {
    id: QUEUED_ID,
    name: 'figQ',
    request: { spec: '/specs/figQ.yaml', scale: 'smoke', seeds: [0], grid: [] },
    createdAt: '2026-11-29T12:00:00.000Z',
    comparisons: [{ runId: 'figQ-s0', seed: 0, point: {} }],
    jobs: [
      { id: 'j1', kind: 'train', key: 'train-lstm-q0', label: 'lstm', seed: 0 },
      { id: 'j2', kind: 'evaluate', key: 'evaluate-lstm-q0', label: 'lstm', seed: 0 },
    ],
  };
  // j1 waits in the queue; j2 has no BullMQ job (removed): cancelled.
  const expected = {
    id: QUEUED_ID,
    name: 'figQ',
    cancelled: false,
    counts: { ...COUNTS0, waiting: 1, cancelled: 1 },
    jobs: [
      { ...record.jobs[0], state: 'waiting', attempts: 0 },
      { ...record.jobs[1], state: 'cancelled', attempts: 0 },
    ],
    etaSeconds: null,
    finished: false,
    where: 'queue',
  };
  let client: Redis;
  let queue: Queue;
  const apps: ReturnType<typeof dashboardApp>[] = [];
  const open = (options: Omit<DashboardOptions, 'store'>) => {
    const app = dashboardApp({ store: storeDir, ...options });
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    client = await openRedis(url);
    await saveSweepRecord(client, record);
    queue = new Queue(QUEUE_NAME, { connection: connectionOf(url) });
    await queue.add('train', { sweepId: QUEUED_ID, job: { kind: 'train', key: 'train-lstm-q0', label: 'lstm' } }, { jobId: 'j1' });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await queue?.close();
    client?.disconnect();
  });

  it('lists a queued sweep: a job without its BullMQ job counts as cancelled', async () => {
    const { app } = open({ queue: url });
    const res = await call(app, '/api/sweeps');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ queue: url, sweepsDir: null, sweeps: [expected] });
    const one = await call(app, `/api/sweeps/${QUEUED_ID}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(expected);
  });

  it('unknown id: 404 with a message; malformed id: 400', async () => {
    const { app } = open({ queue: url });
    const res = await call(app, '/api/sweeps/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "No sweep 'nope' on this queue." });
    const bad = await call(app, '/api/sweeps/..%2Fx');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "'../x' is not a sweep id." });
  });

  it('names the queue without its password', async () => {
    // This Redis asks for no password: one given is sent and not needed.
    const withPassword = url.replace(/^redis:\/\//, 'redis://:s3cret@');
    const { app } = open({ queue: withPassword });
    const res = await call(app, '/api/sweeps');
    expect(res.status).toBe(200);
    expect(res.body.queue).toBe(url.replace(/^redis:\/\//, 'redis://:***@'));
    expect(JSON.stringify(res.body)).not.toContain('s3cret');
    expect(res.body.sweeps).toEqual([expected]);
  });

  it('with both --sweeps and --queue: the local sweeps, then the queued ones, each found by its id', async () => {
    const { app } = open({ sweepsDir, queue: url });
    const res = await call(app, '/api/sweeps');
    expect(res.status).toBe(200);
    expect(res.body.queue).toBe(url);
    expect(res.body.sweepsDir).toBe(sweepsDir);
    const listed = (res.body.sweeps as { id: string; where: string }[]).map((s) => [s.id, s.where]);
    expect(listed).toContainEqual([LOCAL_ID, 'local']);
    expect(listed.at(-1)).toEqual([QUEUED_ID, 'queue']);
    expect(listed.filter(([, where]) => where === 'local')).toHaveLength(listed.length - 1);
    expect(res.body.sweeps.at(-1)).toEqual(expected);

    expect((await call(app, `/api/sweeps/${LOCAL_ID}`)).body).toMatchObject({ id: LOCAL_ID, where: 'local', finished: true });
    expect((await call(app, `/api/sweeps/${QUEUED_ID}`)).body).toEqual(expected);
    const unknown = await call(app, '/api/sweeps/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: "No sweep 'nope' on this queue." });
  });

  it('marks a cancelled sweep as such', async () => {
    await markCancelled(client, QUEUED_ID);
    const { app } = open({ queue: url });
    const res = await call(app, `/api/sweeps/${QUEUED_ID}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...expected, cancelled: true });
  });
});

describe('GET /api/checkpoints', () => {
  it('lists the stored checkpoints and serves each by its SHA-256', async () => {
    const res = await get('/api/checkpoints');
    expect(res.status).toBe(200);
    const listed: { runId: string; label: string; modelId: string; sha256: string }[] = res.body.checkpoints;
    expect(listed.map(({ runId, label, modelId, sha256 }) => ({ runId, label, modelId, sha256 }))).toEqual([
      { runId: 'logreg-s2', label: 'lstm', modelId: 'lstm', sha256: sha256(checkpointText('lstm', 2)) },
      { runId: 'figx-s0', label: 'gru-mha', modelId: 'gru-mha', sha256: sha256(checkpointText('gru-mha', 0)) },
      { runId: 'figx-s1', label: 'gru-mha', modelId: 'gru-mha', sha256: sha256(checkpointText('gru-mha', 1)) },
    ]);
    for (const c of listed) expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);

    const one = await main.app.request(`/api/checkpoints/${listed[1]!.sha256}`);
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await one.text();
    expect(text).toBe(checkpointText('gru-mha', 0));
    expect(JSON.parse(text)).toMatchObject({ format: 'l2o-checkpoint/1', modelId: 'gru-mha', config: { hidden: 16, seed: 0 } });
  });

  it('malformed SHA-256: 400; unknown: 404', async () => {
    await expectError('/api/checkpoints/xyz', 400, /is not a checkpoint's SHA-256/);
    await expectError(`/api/checkpoints/${'A'.repeat(64)}`, 400, /is not a checkpoint's SHA-256/);
    await expectError(`/api/checkpoints/${'0'.repeat(63)}`, 400, /is not a checkpoint's SHA-256/);
    await expectError(`/api/checkpoints/${'0'.repeat(64)}`, 404, /No checkpoint 0{64} in the store/);
  });
});

describe('the web app', () => {
  it('serves index.html at / and by name', async () => {
    for (const url of ['/', '/index.html']) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(res.type).toBe('text/html; charset=utf-8');
      expect(res.body).toBe('<!doctype html><title>l2o dashboard</title>');
    }
  });

  it('answers what is not there with 404 JSON, and the favicon with 204', async () => {
    await expectError('/nope.html', 404, /No such page or endpoint: \/nope\.html/);
    // A file of no served type, and one outside the web folder.
    await expectError('/secret.txt', 404, /No such page or endpoint/);
    await expectError('/..%2Foutside.html', 404, /No such page or endpoint/);
    await expectError('/api/nope', 404, /No such page or endpoint: \/api\/nope/);
    const icon = await main.app.request('/favicon.ico');
    expect(icon.status).toBe(204);
    expect(await icon.text()).toBe('');
  });
});

// The rest through real HTTP: a started dashboard on a free port over the same store.
describe('over HTTP', () => {
  let dashboard: Dashboard;
  let port: number;

  beforeAll(async () => {
    // The main app lets go of the store so that this server can open it at once.
    await main.close();
    dashboard = await startDashboard({ store: storeDir, resultsDir, webDir, host: '127.0.0.1', port: 0 });
    port = Number(new URL(dashboard.url).port);
  });
  afterAll(async () => {
    await dashboard?.close();
  });

  /** One request with exactly these method and Host header (fetch sets its own Host). */
  function request(
    url: string,
    options: { method?: string; host?: string; body?: string } = {},
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: url,
          method: options.method ?? 'GET',
          headers: { host: options.host ?? `127.0.0.1:${port}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: res.headers['content-type']?.startsWith('application/json') && text ? JSON.parse(text) : text,
            }),
          );
        },
      );
      req.once('error', reject);
      req.end(options.body);
    });
  }

  /** A 4xx answer: JSON with one message, and no stack trace. */
  async function expectHttpError(url: string, status: number, message: RegExp, options?: Parameters<typeof request>[1]) {
    const res = await request(url, options);
    expect(res.status, url).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body as object)).toEqual(['error']);
    expect(res.body.error).toMatch(message);
    expect(res.body.error).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|Internal error/);
    return res;
  }

  it('answers every malformed query or path parameter with 400 naming it, never 5xx', async () => {
    const bad: [string, RegExp][] = [
      ...['model', 'problem', 'dataset', 'scale', 'name'].map((key): [string, RegExp] => [
        `/api/runs?${key}=%00`,
        new RegExp(`^${key} must not contain control characters, got '\\\\u0000'`),
      ]),
      ['/api/runs?model=a%0Ab', /^model must not contain control characters, got 'a\\u000ab'/],
      ['/api/runs?problem=%7F', /^problem must not contain control characters/],
      [`/api/runs?name=${'x'.repeat(201)}`, /^name must be at most 200 characters, got 201/],
      ['/api/runs?seed=2147483648', /^seed must be a whole number from 0 to 2147483647, got '2147483648'/],
      ['/api/runs?seed=99999999999999999999999', /^seed must be a whole number from 0 to 2147483647/],
      ['/api/runs?seed=1e3', /^seed must be a whole number/],
      ['/api/runs?seed=%00', /^seed must be a whole number.*'\\u0000'/],
      ['/api/runs?since=0000-01-01', /^since must be a date .*'0000-01-01'/],
      ['/api/runs?since=9999-12-31T23:59:59-14:00', /^since must be a date/],
      ['/api/runs?sort=%00', /^sort must be one of/],
      ['/api/runs?model=lstm&model=gru', /^Give the query parameter model once, got it 2 times/],
      ['/api/runs?%00=1', /^Unknown query parameter '\\u0000'/],
      ['/api/runs/%00', /^'\\u0000' is not a run id/],
      ['/api/runs/%00/curves', /^'\\u0000' is not a run id/],
      ['/api/plot?runs=figx-s0,%00', /^'\\u0000' is not a run id/],
      ['/api/figures/%00', /^figure name must not contain control characters, got '\\u0000'/],
      [`/api/figures/${'f'.repeat(201)}`, /^figure name must be at most 200 characters/],
      ['/api/figures/figX?scale=%00', /^scale must not contain control characters/],
      ['/api/figures/figX?scale=cpu&scale=gpu', /^Give the query parameter scale once/],
      ['/api/sweeps/%00', /^'\\u0000' is not a sweep id/],
      ['/api/checkpoints/%00', /^'\\u0000' is not a checkpoint's SHA-256/],
    ];
    for (const [url, message] of bad) await expectHttpError(url, 400, message);
    // Well-formed values that match nothing: an empty list, or 404 for what is named and not there.
    expect((await request('/api/runs?seed=2147483647')).body).toEqual({ runs: [] });
    expect((await request('/api/runs?since=0001-01-01')).status).toBe(200);
    await expectHttpError('/api/figures/%25FF', 404, /^No runs of '%FF' in the store/);
    await expectHttpError('/api/runs/figx-s9', 404, /^No run 'figx-s9' in the store/);
  });

  it("refuses a Host that is not the server's address (DNS rebinding) with 403, before any route", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      const res = await request('/api/runs?seed=0', { host });
      expect(res.status, host).toBe(200);
      expect(ids(res.body)).toEqual(['figx-s0']);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.evil.example:${port}`, `[::2]:${port}`]) {
      const res = await expectHttpError(
        '/api/runs',
        403,
        new RegExp(`^Host '${host.toLowerCase().replace(/[.[\]]/g, '\\$&')}' is not this dashboard's address: open http://127\\.0\\.0\\.1:${port}/\\.$`),
        {
          host,
        },
      );
      expect(JSON.stringify(res.body)).not.toContain('figx');
    }
    // The pages too, not only the API.
    expect((await request('/', { host: `evil.example:${port}` })).status).toBe(403);
  });

  it('answers methods other than GET and HEAD with 405 and Allow: GET, HEAD, and changes nothing', async () => {
    const routes = [
      '/api/runs',
      '/api/runs/figx-s0',
      '/api/runs/figx-s0/curves',
      '/api/plot?runs=figx-s0',
      '/api/figures',
      '/api/figures/figX',
      '/api/sweeps',
      '/api/sweeps/x',
      '/api/checkpoints',
      `/api/checkpoints/${'0'.repeat(64)}`,
      '/',
      '/index.html',
      '/favicon.ico',
    ];
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const url of routes) {
        const res = await expectHttpError(
          url,
          405,
          new RegExp(`^${method} is not allowed on ${url.split('?')[0]!.replace(/\./g, '\\.')}: the dashboard is read-only \\(GET, HEAD\\)\\.$`),
          {
            method,
            ...(method === 'POST' || method === 'PUT' ? { body: JSON.stringify(RUNS[0]) } : {}),
          },
        );
        expect(res.headers.allow, `${method} ${url}`).toBe('GET, HEAD');
      }
    }
    // What is not there stays 404 whatever the method.
    await expectHttpError('/api/nope', 404, /No such page or endpoint: \/api\/nope/, { method: 'POST' });
    await expectHttpError('/nope.html', 404, /No such page or endpoint: \/nope\.html/, { method: 'DELETE' });
    const head = await request('/api/runs', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(ids((await request('/api/runs')).body)).toEqual(['logreg-s2', 'figx-s0', 'figx-s1']);
    expect((await request('/api/runs/figx-s0')).status).toBe(200);
  });
});
