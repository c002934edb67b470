import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { partialEvaluationFile, partialEvaluationPath, type ComparisonSpec } from '@l2o/core';
import { campaignSweep, loadCampaign, remainingPlan, withoutFailed } from './campaign.js';
import {
  campaignPlanOf,
  evaluationsUnderWay,
  expectedJobSeconds,
  readStateEvidence,
  recordCampaignJob,
  recordCampaignResume,
  resumePointOf,
  finishedTrainingOf,
  type CampaignPlanFile,
  type PlannedEntry,
  type StateEvidence,
} from './campaign-state.js';
import type { SweepJob, SweepPlan } from './plan.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-campaign-unit-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A sweep of `name` over seeds: per seed a training (t<seed>), two evaluations and a run (<name>-s<seed>). */
function sweepOf(name: string, seeds: number[]): SweepPlan {
  const jobs: SweepJob[] = [];
  const comparisons = seeds.map((seed) => {
    const comparison = { name, seed } as unknown as ComparisonSpec;
    jobs.push(
      { kind: 'train', key: `t${seed}`, label: 'lstm', comparison },
      { kind: 'evaluate', key: `e-lstm-${seed}`, label: 'lstm', comparison, train: `t${seed}` },
      { kind: 'evaluate', key: `e-fista-${seed}`, label: 'fista', comparison },
      { kind: 'run', key: `${name}-s${seed}`, comparison, evaluations: [`e-lstm-${seed}`, `e-fista-${seed}`] },
    );
    return { runId: `${name}-s${seed}`, seed, point: {}, comparison };
  });
  return { name, request: { spec: `/x/${name}.yaml`, scale: 'smoke', seeds, grid: [] }, comparisons, jobs };
}
const entry = (name: string, seeds: number[]): PlannedEntry => ({
  spec: `${name}.yaml`,
  scale: 'smoke',
  seeds,
  grid: [],
  plan: sweepOf(name, seeds),
  sweepId: `sweep-${name}`,
});
const evidence = (e: Partial<StateEvidence> = {}): StateEvidence => ({
  checkpoints: new Set(),
  resumes: new Map(),
  evaluations: new Set(),
  runs: new Map(),
  ...e,
});

describe('the campaign plan file', () => {
  it('says done what the state folder holds, remaining the rest, with a resumable training’s step', () => {
    const plan = campaignPlanOf(
      'c',
      [entry('a', [0]), entry('b', [0, 1])],
      evidence({
        checkpoints: new Set(['t0']),
        resumes: new Map([['t1', { nextStep: 6, totalSteps: 10, seconds: 41.7 }]]),
        evaluations: new Set(['e-fista-1']),
        runs: new Map([['a', new Set(['a-s0'])]]),
      }),
      null,
    );
    expect(plan.entries.map((e) => [e.figure, e.status, e.runs, e.trainings, e.evaluations])).toEqual([
      // a's evaluations are done with its run (their files are deleted once it is written).
      ['a', 'done', { done: 1, total: 1 }, { done: 1, total: 1 }, { done: 2, total: 2 }],
      ['b', 'remaining', { done: 0, total: 2 }, { done: 1, total: 2 }, { done: 1, total: 4 }],
    ]);
    expect(Object.keys(plan.entries[1]!.jobs)).toEqual(['t0', 'e-lstm-0', 'e-fista-0', 'b-s0', 't1', 'e-lstm-1', 'e-fista-1', 'b-s1']);
    expect(plan.entries[1]!.jobs.t1).toEqual({ kind: 'train', label: 'lstm', seed: 1, done: false, resumesAt: 6, totalSteps: 10, secondsSoFar: 41.7 });
    expect(plan.entries[1]!.jobs['e-fista-1']).toEqual({ kind: 'evaluate', label: 'fista', seed: 1, done: true });
  });

  it('records who made a job, keeps it when the job is later found done (cached), and counts follow', () => {
    const plan = campaignPlanOf('c', [entry('b', [0, 1])], evidence(), null);
    recordCampaignJob(plan, 't0', { done: true, commit: 'abc', engine: 'wasm', seconds: 12.345, at: new Date('2030-01-01T00:00:00Z') });
    expect(plan.entries[0]!.jobs.t0).toEqual({
      kind: 'train',
      label: 'lstm',
      seed: 0,
      done: true,
      commit: 'abc',
      engine: 'wasm',
      seconds: 12.3,
      finishedAt: '2030-01-01T00:00:00.000Z',
    });
    recordCampaignJob(plan, 't0', { done: true, commit: 'def', engine: 'cpu', seconds: 0 });
    expect(plan.entries[0]!.jobs.t0).toMatchObject({ commit: 'abc', engine: 'wasm', seconds: 12.3 });
    expect(plan.entries[0]!.trainings).toEqual({ done: 1, total: 2 });
    recordCampaignJob(plan, 'b-s1', { done: false, failed: 'diverged' });
    expect(plan.entries[0]!.jobs['b-s1']).toMatchObject({ done: false, failed: 'diverged' });
    recordCampaignJob(plan, 'b-s0', { done: true, seconds: 0.4 });
    recordCampaignJob(plan, 'b-s1', { done: true, seconds: 0.4 });
    expect(plan.entries[0]!.jobs['b-s1']!.failed).toBeUndefined();
    expect(plan.entries[0]!).toMatchObject({ status: 'done', runs: { done: 2, total: 2 } });
    const sessions = [{ fromStep: 0, toStep: 8, seconds: 60, commit: 'abc' }];
    recordCampaignResume(plan, 't1', { nextStep: 8, totalSteps: 10, seconds: 60, sessions });
    expect(plan.entries[0]!.jobs.t1).toMatchObject({ resumesAt: 8, totalSteps: 10, secondsSoFar: 60, sessions });
    // A resume state that cannot be read is a fresh start: nothing to report.
    recordCampaignResume(plan, 't1', { nextStep: 0 });
    expect(plan.entries[0]!.jobs.t1).toEqual({ kind: 'train', label: 'lstm', seed: 1, done: false });
  });

  it('rebuilt from the folder and its last version: records of done jobs stay, a job the folder lost is remaining again', () => {
    const before = campaignPlanOf('c', [entry('b', [0, 1])], evidence(), null);
    recordCampaignJob(before, 't0', { done: true, commit: 'abc', engine: 'wasm', seconds: 5 });
    recordCampaignJob(before, 't1', { done: true, commit: 'abc', engine: 'wasm', seconds: 5 });
    // The campaign file now lists the sweep with one seed more: its jobs are keyed by content, so t0 keeps its record.
    const after = campaignPlanOf('c', [entry('b', [0, 1, 2])], evidence({ checkpoints: new Set(['t0']) }), before);
    expect(after.entries[0]!.jobs.t0).toMatchObject({ done: true, commit: 'abc', seconds: 5 });
    expect(after.entries[0]!.jobs.t1).toEqual({ kind: 'train', label: 'lstm', seed: 1, done: false });
    expect(after.entries[0]!.jobs.t2).toEqual({ kind: 'train', label: 'lstm', seed: 2, done: false });
  });

  it('reads where a resume state stands and a finished training’s time and sessions from their files', () => {
    const resume = path.join(temp, 'r.resume.json');
    writeFileSync(resume, JSON.stringify({ training: { nextStep: 260, seconds: 23640.5, options: { globalSteps: 500 } } }));
    expect(resumePointOf(resume)).toEqual({ nextStep: 260, totalSteps: 500, seconds: 23640.5 });
    const sessions = [
      { fromStep: 0, toStep: 258, seconds: 23528.04, commit: 'aaaa', engine: 'wasm+l2o-kernels' },
      { fromStep: 258, toStep: 260, seconds: 112.46 },
    ];
    writeFileSync(
      resume,
      JSON.stringify({ training: { nextStep: 260, seconds: 23640.5, options: { globalSteps: 500 }, sessions: [...sessions, { fromStep: 'x' }] } }),
    );
    expect(resumePointOf(resume).sessions).toEqual([
      { ...sessions[0], seconds: 23528 },
      { ...sessions[1], seconds: 112.5 },
    ]);
    writeFileSync(resume, '{"training": {"nextStep": 4');
    expect(resumePointOf(resume)).toEqual({ nextStep: 0 });
    const log = path.join(temp, 'r.training.json');
    writeFileSync(log, JSON.stringify({ history: [], validation: [], seconds: 7754.1, resumedAfter: 280 }));
    expect(finishedTrainingOf(log)).toEqual({ seconds: 7754.1 });
    writeFileSync(log, JSON.stringify({ history: [], validation: [], seconds: 7754.1, resumedAfter: 280, sessions: sessions.slice(0, 1) }));
    expect(finishedTrainingOf(log)).toEqual({ seconds: 7754.1, sessions: [{ ...sessions[0], seconds: 23528 }] });
    expect(finishedTrainingOf(path.join(temp, 'none.json'))).toEqual({});
  });

  it('rebuilt, keeps the sessions of a finished training, from its record or its kept training log, and takes its time from the log', () => {
    const sessions = [
      { fromStep: 0, toStep: 100, seconds: 2049.1 },
      { fromStep: 100, toStep: 500, seconds: 9502.2, commit: 'e20d', engine: 'wasm+l2o-kernels' },
    ];
    const trainingOf = (plan: CampaignPlanFile) => plan.entries[0]!.jobs['t0'];
    // Finished with its sessions recorded, then rebuilt (as every campaign run begins).
    const finished = campaignPlanOf('c', [entry('b', [0])], evidence(), null);
    recordCampaignJob(finished, 't0', { done: true, commit: 'e20d', engine: 'wasm+l2o-kernels', seconds: 11551.3, sessions });
    const rebuilt = campaignPlanOf('c', [entry('b', [0])], evidence({ checkpoints: new Set(['t0']) }), finished);
    expect(trainingOf(rebuilt)).toMatchObject({ done: true, commit: 'e20d', sessions });
    // A plan that lost them (rebuilt by an earlier version) and holds only the last session's time,
    // as earlier keepers recorded it: the kept log's sessions and time, read with the folder.
    const dir = path.join(temp, 'state-sessions');
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(dir, 'checkpoints', 't0.json'), '{}');
    writeFileSync(path.join(dir, 'checkpoints', 't0.training.json'), JSON.stringify({ seconds: 11551.3, sessions }));
    const lost = {
      ...finished,
      entries: finished.entries.map((e) => ({ ...e, jobs: { ...e.jobs, t0: { ...e.jobs['t0']!, seconds: 9502.2, sessions: undefined } } })),
    };
    const fromLog = campaignPlanOf('c', [entry('b', [0])], readStateEvidence(dir, ['b']), lost);
    expect(trainingOf(fromLog)).toMatchObject({ done: true, commit: 'e20d', seconds: 11551.3, sessions });
  });

  it('leaves out of a sweep the comparisons whose runs are kept, and what only they need', () => {
    const plan = sweepOf('b', [0, 1]);
    const rest = remainingPlan(plan, new Set(['b-s0']));
    expect(rest.comparisons.map((c) => c.runId)).toEqual(['b-s1']);
    expect(rest.jobs.map((j) => j.key)).toEqual(['t1', 'e-lstm-1', 'e-fista-1', 'b-s1']);
    expect(remainingPlan(plan, new Set(['b-s0', 'b-s1'])).jobs).toEqual([]);
  });
});

describe('the entries as one sweep', () => {
  it('lists a job two entries share once, in the first, after the jobs it needs, and says each job’s entry', () => {
    // Entry 1 (a second figure of the same comparisons) shares seed 0's jobs but for its run, and has seed 1.
    const a = sweepOf('a', [0]);
    const b = sweepOf('b', [0, 1]);
    const { plan, entryOf } = campaignSweep([a, b]);
    expect(plan.jobs.map((j) => j.key)).toEqual(['t0', 'e-lstm-0', 'e-fista-0', 'a-s0', 'b-s0', 't1', 'e-lstm-1', 'e-fista-1', 'b-s1']);
    expect(plan.comparisons.map((c) => c.runId)).toEqual(['a-s0', 'b-s0', 'b-s1']);
    expect([...entryOf]).toEqual(plan.jobs.map((j) => [j.key, ['a-s0', 't0', 'e-lstm-0', 'e-fista-0'].includes(j.key) ? 0 : 1]));
    const seen = new Set<string>();
    for (const job of plan.jobs) {
      const after = job.kind === 'run' ? job.evaluations : job.kind === 'evaluate' && job.train ? [job.train] : [];
      expect(after.every((k) => seen.has(k))).toBe(true);
      seen.add(job.key);
    }
  });
});

describe('what a job is expected to take', () => {
  it('a resumable training: its steps left at its pace; another: the median of its entry’s finished jobs of its kind and label', () => {
    const plan = campaignPlanOf(
      'c',
      [entry('b', [0, 1, 2, 3])],
      evidence({ resumes: new Map([['t3', { nextStep: 100, totalSteps: 500, seconds: 6000 }]]) }),
      null,
    );
    const record = plan.entries[0]!;
    const job = (key: string, kind: 'train' | 'evaluate', label: string) => ({ key, kind, label });
    const expected = (key: string, kind: 'train' | 'evaluate', label: string) => expectedJobSeconds(record, job(key, kind, label), 'wasm');
    // Nothing finished: unknown (a resume state with its pace is known).
    expect(expected('t1', 'train', 'lstm')).toBeUndefined();
    expect(expected('t3', 'train', 'lstm')).toBe(60 * 400);
    recordCampaignJob(plan, 't0', { done: true, engine: 'wasm', seconds: 7000 });
    recordCampaignJob(plan, 't1', { done: true, seconds: 9000 });
    // Found done (cached): it took nothing here, and does not count.
    recordCampaignJob(plan, 't2', { done: true, seconds: 0 });
    recordCampaignJob(plan, 'e-fista-0', { done: true, engine: 'wasm', seconds: 30 });
    expect(expected('t2', 'train', 'lstm')).toBe(8000);
    expect(expected('t3', 'train', 'lstm')).toBe(60 * 400);
    expect(expected('e-fista-1', 'evaluate', 'fista')).toBe(30);
    expect(expected('e-lstm-1', 'evaluate', 'lstm')).toBeUndefined();
  });

  it('leaves out what another engine measured', () => {
    const plan = campaignPlanOf('c', [entry('b', [0, 1, 2, 3])], evidence(), null);
    const record = plan.entries[0]!;
    recordCampaignJob(plan, 't0', { done: true, engine: 'tensorflow', seconds: 700 });
    recordCampaignJob(plan, 't1', { done: true, engine: 'wasm', seconds: 9000 });
    expect(expectedJobSeconds(record, { key: 't2', kind: 'train', label: 'lstm' }, 'wasm')).toBe(9000);
    expect(expectedJobSeconds(record, { key: 't2', kind: 'train', label: 'lstm' }, 'tensorflow')).toBe(700);
    // A training under way counts on the engine its last session ran on (at its pace over all its sessions).
    const sessions = [
      { fromStep: 0, toStep: 80, seconds: 4800, engine: 'wasm' },
      { fromStep: 80, toStep: 100, seconds: 20, engine: 'tensorflow' },
    ];
    recordCampaignResume(plan, 't3', { nextStep: 100, totalSteps: 500, seconds: 4820, sessions });
    expect(expectedJobSeconds(record, { key: 't3', kind: 'train', label: 'lstm' }, 'tensorflow')).toBeCloseTo(48.2 * 400, 6);
    expect(expectedJobSeconds(record, { key: 't3', kind: 'train', label: 'lstm' }, 'wasm')).toBe(9000);
  });
});

describe('evaluations under way', () => {
  it('are the unfinished evaluations whose batches the cache keeps, with how far each got', () => {
    const plan = campaignPlanOf('c', [entry('b', [0, 1])], evidence({ evaluations: new Set(['e-fista-1']) }), null);
    const cacheDir = path.join(temp, 'cache-under-way');
    const kept = (key: string, done: number) =>
      partialEvaluationFile(partialEvaluationPath(cacheDir, key), {}).save({
        done,
        instances: 8,
        F: new Float64Array(done * 3),
        accepted: null,
        seconds: 12.5,
      });
    kept('e-lstm-1', 4);
    // Finished (its file is kept in the state folder): a stale partial file is not under way.
    kept('e-fista-1', 4);
    expect(evaluationsUnderWay(plan, cacheDir)).toEqual(new Map([['e-lstm-1', { done: 4, instances: 8, seconds: 12.5 }]]));
    expect(evaluationsUnderWay(plan, path.join(temp, 'no-cache'))).toEqual(new Map());
  });
});

describe('jobs that failed before', () => {
  it('leave out the runs that need them (a failed training: its evaluation and run), and nothing else', () => {
    const plan = sweepOf('b', [0, 1]);
    const { plan: rest, leftOut } = withoutFailed(plan, new Set(['t1']));
    expect(leftOut).toEqual(['b-s1']);
    expect(rest.comparisons.map((c) => c.runId)).toEqual(['b-s0']);
    expect(rest.jobs.map((j) => j.key)).toEqual(['t0', 'e-lstm-0', 'e-fista-0', 'b-s0']);
    // A failed evaluation of a baseline leaves out its run too; none failed: the plan as it was.
    expect(withoutFailed(plan, new Set(['e-fista-0'])).leftOut).toEqual(['b-s0']);
    expect(withoutFailed(plan, new Set())).toEqual({ plan, leftOut: [] });
  });
});

describe('a campaign file', () => {
  const file = (name: string, text: string) => {
    const f = path.join(temp, `${name}.yaml`);
    writeFileSync(f, text);
    return f;
  };
  it('lists entries in order, seeds as a range, a list or one seed', () => {
    const c = loadCampaign(
      file(
        'ok',
        'entries:\n  - { spec: ../paper/fig5.yaml, scale: paper, seeds: 0..2 }\n  - { spec: b.yaml, scale: smoke, seeds: [3, 5], grid: ["lstm.hidden=4,8"] }\n  - { spec: c.yaml, scale: smoke, seeds: 7 }\n',
      ),
    );
    expect(c.name).toBe('ok');
    expect(c.entries).toEqual([
      { spec: '../paper/fig5.yaml', scale: 'paper', seeds: [0, 1, 2], grid: [] },
      { spec: 'b.yaml', scale: 'smoke', seeds: [3, 5], grid: ['lstm.hidden=4,8'] },
      { spec: 'c.yaml', scale: 'smoke', seeds: [7], grid: [] },
    ]);
  });
  it('refuses what it cannot run, naming the entry', () => {
    expect(() => loadCampaign(file('none', 'entries: []\n'))).toThrow(/lists no entries/);
    expect(() => loadCampaign(file('typo', 'entries:\n  - { spec: a.yaml, scale: smoke, seed: 0 }\n'))).toThrow(/entry 1 has an unknown key 'seed'/);
    expect(() => loadCampaign(file('seeds', 'entries:\n  - { spec: a.yaml, scale: smoke, seeds: 2..1 }\n'))).toThrow(/ends before it starts/);
    expect(() => loadCampaign(path.join(temp, 'missing.yaml'))).toThrow(/does not exist/);
  });
});
