import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { DEFAULT_TRAIN_OPTIONS, type EvaluationCurve, type OptimizerSummary, type RunSummary, type TrainingRecord } from '@l2o/core';
import { openRunStore } from './open.js';
import { MIGRATIONS } from './migrations.js';
import type { RunRecord } from './run-store.js';
import { startPostgres } from './test-utils/postgres-server.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-store-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function curve(label: string, K: number, diverge = false): EvaluationCurve {
  const meanF = Array.from({ length: K + 1 }, (_, k) => (diverge && k >= 3 ? Number.POSITIVE_INFINITY : 1 / (k + 1)));
  const meanGap = meanF.map((f) => (Number.isFinite(f) ? f - 0.01 : Number.NaN));
  return {
    optimizer: label,
    instances: 8,
    gapInstances: 7,
    meanF,
    meanGap,
    finalGap: meanGap[K]!,
    iterationsTo: { '0.01': null },
    divergedAt: diverge ? 3 : null,
    seconds: 0.5,
  };
}

/** An optimizer's summary entry as runComparison writes it from its curve. */
function entry(c: EvaluationCurve, kind: OptimizerSummary['kind']): OptimizerSummary {
  const { optimizer: label, finalGap, iterationsTo, divergedAt, seconds: evaluationSeconds } = c;
  return { label, id: label, kind, options: {}, finalGap, finalF: c.meanF.at(-1)!, iterationsTo, divergedAt, evaluationSeconds };
}

function run(id: string, over: Partial<RunSummary> = {}, model = 'gru-mha'): RunRecord {
  const curves = [curve(model, 10), curve('fista', 10), curve('adam', 10, true)];
  const summary: RunSummary = {
    name: `${model}-lasso`,
    problem: { id: 'lasso', options: {} },
    trainDataset: { id: 'synthetic', options: { preset: 'toy' } },
    testDataset: { id: 'synthetic', options: { preset: 'toy' } },
    testInstances: 8,
    iterations: 10,
    scale: 'smoke',
    seed: 0,
    engine: 'wasm',
    training: { globalSteps: 2 },
    optimizers: curves.map((c, i) => (i === 0 ? { ...entry(c, 'learned'), parameters: 4594, trainingSeconds: 3 } : entry(c, 'baseline'))),
    createdAt: '2026-11-29T08:00:00.000Z',
    ...over,
  };
  const checkpoint = JSON.stringify({ format: 'l2o-checkpoint/1', modelId: model, config: { hidden: 16 }, parameterCount: 4594, weights: {} });
  return {
    id,
    summary,
    spec: { name: summary.name },
    curves,
    checkpoints: { [model]: checkpoint },
    artifacts: { 'summary.md': '# run\n', 'convergence.png': new Uint8Array([137, 80, 78, 71]) },
    versions: { '@l2o/core': '0.1.0' },
  };
}

const server = await startPostgres();
if ('skip' in server) {
  // CI sets L2O_REQUIRE_POSTGRES: there the server half must run.
  if (process.env.L2O_REQUIRE_POSTGRES) throw new Error(`store tests: no PostgreSQL server could be started: ${server.skip}`);
  console.warn(`store tests: the PostgreSQL server half is skipped: ${server.skip}`);
}
afterAll(() => ('stop' in server ? server.stop() : undefined));

const backends: [string, () => string, boolean][] = [
  ['embedded (PGlite)', () => path.join(temp, `embedded-${Math.random().toString(36).slice(2)}`), true],
  ['PostgreSQL server', () => ('url' in server ? server.url : ''), 'url' in server],
];

describe.each(backends)('run store: %s', (_name, location, available) => {
  let where = '';
  beforeAll(() => {
    where = location();
  });

  const testData = { dataset: 'bsds500', location: '/data/bsds500', files: 200, manifestSha256: 'ab'.repeat(32) };
  it.runIf(available)('stores a run in one piece, lists it with filters, reads its curves back (NaN and Infinity kept)', async () => {
    const store = await openRunStore(where);
    try {
      expect(await store.saveRun(run('r1'))).toEqual({ id: 'r1', created: true });
      expect(
        await store.saveRun(run('r2', { scale: 'toy', createdAt: '2026-11-29T09:00:00.000Z', testDataset: { id: 'bsds500', options: {} }, testData }, 'lstm')),
      ).toEqual({ id: 'r2', created: true });
      // Which raw files a real test set came from comes back as stored; a synthetic run has none.
      expect((await store.getRun('r2'))!.summary.testData).toEqual(testData);
      expect((await store.getRun('r1'))!.summary.testData).toBeUndefined();
      // Pretrained weights' provenance comes back as stored.
      const trainedWith = {
        problem: 'lasso',
        problemOptions: {},
        dataset: 'synthetic',
        datasetOptions: { preset: 'paper' },
        spec: 'experiments/paper/fig1.yaml',
        scale: 'paper',
        seed: 0,
        commit: 'd1daed7',
        engine: 'wasm',
        globalSteps: 500,
        batchSize: 64,
        bestValidation: 3.74,
        bestStep: 480,
      };
      const pretrained = run('r3', { createdAt: '2026-11-29T07:00:00.000Z' });
      pretrained.summary.optimizers[0] = { ...pretrained.summary.optimizers[0]!, pretrained: { name: 'lasso-250x500', trainedWith } };
      await store.saveRun(pretrained);
      expect((await store.getRun('r3'))!.summary.optimizers.map((o) => o.pretrained)).toEqual([{ name: 'lasso-250x500', trainedWith }, undefined, undefined]);
      await store.deleteRun('r3');
      // The same run again is stored once.
      expect(await store.saveRun(run('r1'))).toEqual({ id: 'r1', created: false });
      const all = await store.listRuns();
      expect(all.map((r) => r.id)).toEqual(['r2', 'r1']);
      expect((await store.listRuns({ model: 'gru-mha' })).map((r) => r.id)).toEqual(['r1']);
      expect((await store.listRuns({ dataset: 'bsds500' })).map((r) => r.id)).toEqual(['r2']);
      expect((await store.listRuns({ scale: 'smoke', problem: 'lasso' })).map((r) => r.id)).toEqual(['r1']);
      expect((await store.listRuns({ since: new Date('2026-11-29T08:30:00Z') })).map((r) => r.id)).toEqual(['r2']);
      const listed = all.find((r) => r.id === 'r1')!;
      // In the run's own order (not by label).
      expect(listed.optimizers).toEqual([
        { label: 'gru-mha', id: 'gru-mha', kind: 'learned', finalGap: 1 / 11 - 0.01, divergedAt: null },
        { label: 'fista', id: 'fista', kind: 'baseline', finalGap: 1 / 11 - 0.01, divergedAt: null },
        { label: 'adam', id: 'adam', kind: 'baseline', finalGap: null, divergedAt: 3 },
      ]);
      expect((await store.getRun('r1'))!.summary.optimizers.map((o) => o.label)).toEqual(['gru-mha', 'fista', 'adam']);
      const curves = await store.curves('r1');
      const given = run('r1').curves;
      for (const c of given) {
        expect(curves[c.optimizer]!.meanF).toEqual(c.meanF);
        expect(curves[c.optimizer]!.meanGap).toEqual(c.meanGap);
      }
      expect(await store.deleteRun('r2')).toBe(true);
      expect(await store.deleteRun('r2')).toBe(false);
      expect((await store.listRuns()).map((r) => r.id)).toEqual(['r1']);
    } finally {
      await store.close();
    }
    // Reopened: the schema is not applied twice, the data is there.
    const again = await openRunStore(where);
    expect((await again.listRuns()).map((r) => r.id)).toEqual(['r1']);
    await again.close();
  });

  it.runIf(available)('lists the runs whose config.json has every --where value (paths and values are parameters)', async () => {
    const config = (seed: number, lambda: number, globalSteps: number, extra: Record<string, unknown> = {}) => ({
      spec: { name: 'fig1', seed, scale: 'cpu', problem: { id: 'lasso', options: { lambda } }, optimizers: [{ id: 'gru-mha' }, { id: 'fista' }] },
      scale: { name: 'cpu' },
      training: { globalSteps, learningRate: 0.01, seed },
      ...extra,
    });
    const store = await openRunStore(where);
    try {
      const saved: [string, unknown, string][] = [
        ['w1', config(1, 0.1, 400), '2026-11-30T01:00:00.000Z'],
        ['w2', config(2, 0.05, 400), '2026-11-30T02:00:00.000Z'],
        ['w3', config(1, 0.1, 150, { "it's {a,b}": 'x"y\\z' }), '2026-11-30T03:00:00.000Z'],
      ];
      for (const [id, spec, createdAt] of saved) await store.saveRun({ ...run(id, { createdAt }), spec });
      const ids = async (...conditions: [string, string][]) =>
        (await store.listRuns({ where: conditions.map(([key, value]) => ({ path: key.split('.'), value })) }))
          .map((r) => r.id)
          .filter((id) => id.startsWith('w'));
      // A key is looked up at config.json's top level and under its spec.
      expect(await ids(['seed', '1'])).toEqual(['w3', 'w1']);
      expect(await ids(['spec.seed', '1'])).toEqual(['w3', 'w1']);
      expect(await ids(['training.globalSteps', '400'])).toEqual(['w2', 'w1']);
      // All conditions must hold.
      expect(await ids(['seed', '1'], ['training.globalSteps', '400'])).toEqual(['w1']);
      expect(await ids(['problem.options.lambda', '0.1'])).toEqual(['w3', 'w1']);
      expect(await ids(['problem.options.lambda', '0.05'], ['seed', '2'])).toEqual(['w2']);
      // Top-level `scale` is an object; the spec's is the name.
      expect(await ids(['scale', 'cpu'])).toEqual(['w3', 'w2', 'w1']);
      expect(await ids(['scale.name', 'cpu'])).toEqual(['w3', 'w2', 'w1']);
      // Array indices, compared as text.
      expect(await ids(['spec.optimizers.1.id', 'fista'])).toEqual(['w3', 'w2', 'w1']);
      expect(await ids(['optimizers.0.id', 'fista'])).toEqual([]);
      expect(await ids(['seed', '3'])).toEqual([]);
      expect(await ids(['no.such.key', '1'])).toEqual([]);
      expect(await ids(['training.globalSteps', '400.0'])).toEqual([]);
      // Quotes, braces, commas and backslashes in keys and values are data, not SQL or array syntax.
      expect(await ids(["it's {a,b}", 'x"y\\z'])).toEqual(['w3']);
      expect(await ids(['seed', "1' OR '1'='1"])).toEqual([]);
      expect(await ids(["seed' OR 1=1 --", '1'])).toEqual([]);
      // With the other filters.
      expect((await store.listRuns({ scale: 'smoke', where: [{ path: ['seed'], value: '2' }] })).map((r) => r.id)).toEqual(['w2']);
      expect((await store.listRuns({ scale: 'toy', where: [{ path: ['seed'], value: '2' }] })).map((r) => r.id)).toEqual([]);
      await expect(store.listRuns({ where: [{ path: [], value: '1' }] })).rejects.toThrow(/needs a key/);
      for (const [id] of saved) await store.deleteRun(id);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('stores a training once, with its checkpoint, and lists trainings by model', async () => {
    const store = await openRunStore(where);
    const training = (id: string, modelId: string, loss: number | null, createdAt: string): TrainingRecord => ({
      id,
      modelId,
      problem: { id: 'lasso', options: {} },
      dataset: { id: 'synthetic', options: { preset: 'toy' } },
      training: { ...DEFAULT_TRAIN_OPTIONS, globalSteps: 7, seed: 3 },
      engine: 'wasm',
      checkpoint: JSON.stringify({ format: 'l2o-checkpoint/1', modelId, config: { hidden: 8 }, parameterCount: 1, weights: {}, tag: id }),
      best: loss === null ? null : { step: 5, loss },
      seconds: 1.5,
      versions: { '@l2o/core': '0.1.0' },
      createdAt,
    });
    try {
      const first = training('train-gru-aaa', 'gru', 0.25, '2026-11-29T10:00:00.000Z');
      expect(await store.saveTraining(first)).toEqual({ id: 'train-gru-aaa', created: true });
      expect(await store.saveTraining(first)).toEqual({ id: 'train-gru-aaa', created: false });
      expect(await store.saveTraining(training('train-lstm-bbb', 'lstm', null, '2026-11-29T11:00:00.000Z'))).toEqual({ id: 'train-lstm-bbb', created: true });
      expect((await store.listTrainings()).map((t) => t.id)).toEqual(['train-lstm-bbb', 'train-gru-aaa']);
      const [gru] = await store.listTrainings({ model: 'gru' });
      expect(gru).toMatchObject({
        id: 'train-gru-aaa',
        modelId: 'gru',
        problem: 'lasso',
        dataset: 'synthetic',
        seed: 3,
        globalSteps: 7,
        bestLoss: 0.25,
        bestStep: 5,
      });
      expect(gru!.checkpointSha256).toBe(createHash('sha256').update(first.checkpoint).digest('hex'));
      expect((await store.listTrainings({ model: 'lstm' }))[0]).toMatchObject({ bestLoss: null, bestStep: null });
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('stores a sweep job result once per key, replaces it when asked, deletes it', async () => {
    const store = await openRunStore(where);
    try {
      expect(await store.putJobResult('sweep/seed-1/train', 'checkpoint', '{"step":1}')).toBe(true);
      // Written once per key: a second put without replace keeps the first.
      expect(await store.putJobResult('sweep/seed-1/train', 'checkpoint', '{"step":2}')).toBe(false);
      expect(await store.getJobResult('sweep/seed-1/train')).toBe('{"step":1}');
      expect(await store.putJobResult('sweep/seed-1/train', 'resume', '{"step":3}', { replace: true })).toBe(true);
      expect(await store.getJobResult('sweep/seed-1/train')).toBe('{"step":3}');
      // @ts-expect-error reaching the connection for the test
      const { rows } = await store.sql.query('SELECT kind, updated_at >= created_at AS later FROM job_results WHERE key = $1', ['sweep/seed-1/train']);
      expect(rows).toEqual([{ kind: 'resume', later: true }]);
      // Replace of a key not there yet stores it.
      expect(await store.putJobResult('sweep/seed-1/eval', 'evaluation', 'gap 0.01', { replace: true })).toBe(true);
      expect(await store.getJobResult('sweep/seed-1/eval')).toBe('gap 0.01');
      expect(await store.getJobResult('sweep/no-such-job')).toBeNull();
      expect(await store.deleteJobResult('sweep/seed-1/train')).toBe(true);
      expect(await store.getJobResult('sweep/seed-1/train')).toBeNull();
      expect(await store.deleteJobResult('sweep/seed-1/train')).toBe(false);
      // 1 MB of text, multi-byte characters included, comes back exactly.
      const unit = 'checkpoint é€ 𝔼 \u0000\n';
      const big = unit.repeat(Math.ceil(2 ** 20 / unit.length));
      expect(big.length).toBeGreaterThanOrEqual(2 ** 20);
      expect(await store.putJobResult('sweep/seed-2/train', 'checkpoint', big)).toBe(true);
      expect(await store.getJobResult('sweep/seed-2/train')).toBe(big);
      expect(await store.deleteJobResult('sweep/seed-1/eval')).toBe(true);
      expect(await store.deleteJobResult('sweep/seed-2/train')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it.runIf(available)('a run that fails half-way leaves nothing behind', async () => {
    const store = await openRunStore(where);
    try {
      const broken = run('half');
      broken.checkpoints['gru-mha'] = 'not json'; // fails after the runs row is written
      await expect(store.saveRun(broken)).rejects.toThrow();
      expect((await store.listRuns()).map((r) => r.id)).not.toContain('half');
    } finally {
      await store.close();
    }
  });
});

describe('run store: opening', () => {
  it('an embedded store has one writer: a second open names the holder', async () => {
    const dir = path.join(temp, 'locked');
    const first = await openRunStore(dir);
    try {
      await expect(openRunStore(dir)).rejects.toThrow(new RegExp(`run store .*locked is open in process ${process.pid}`));
    } finally {
      await first.close();
    }
    const second = await openRunStore(dir); // released on close
    await second.close();
  });

  it('refuses a store of a newer schema, and unreachable servers, in one line', async () => {
    const dir = path.join(temp, 'newer');
    const store = await openRunStore(dir);
    // @ts-expect-error reaching the connection for the test
    await store.sql.query('INSERT INTO l2o_schema (version, name) VALUES ($1, $2)', [MIGRATIONS.length + 1, 'from the future']);
    await store.close();
    await expect(openRunStore(dir)).rejects.toThrow(
      new RegExp(`has schema version ${MIGRATIONS.length + 1}, newer than this l2o knows \\(${MIGRATIONS.length}\\)`),
    );
    await expect(openRunStore('postgres://nobody:secret@127.0.0.1:1/none')).rejects.toThrow(
      /^Cannot reach the run store postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: ECONNREFUSED\.$/,
    );
  });
});
