import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { openRunStore } from '@l2o/store';
import { sweepStatus, type SweepStatus } from '@l2o/sweep';
import { startPostgres } from '../../store/src/test-utils/postgres-server.js';
import { redisForTests } from '../../sweep/src/test-utils/redis-server.js';
import { curvesOf as curvesIn, expectCloseCurves } from './test-utils/curves.js';
import { args, expectOneLineError, REPO_ROOT, runCli } from './test-utils/run-cli.js';
import { tinySpec } from './test-utils/tiny-spec.js';

// Sweeps as a user runs them: `l2o sweep` on local job processes (no server), and the same sweep
// on a Redis queue with two `l2o worker` processes sharing a PostgreSQL store, one of them killed
// with SIGKILL in the middle of a training.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-sweep-'));
const spec = path.join(temp, 'sweep.yaml');
// lstm trains for 24 global steps, validated (and its resume state saved) every 2; fista needs no training.
writeFileSync(spec, tinySpec('sweeptest', 24, { iterations: 20, unroll: 10, testIterations: 30 }));
const redis = await redisForTests();
const postgres = await startPostgres();
for (const [what, server, required] of [
  ['Redis', redis, 'L2O_REQUIRE_REDIS'],
  ['PostgreSQL', postgres, 'L2O_REQUIRE_POSTGRES'],
] as const) {
  if ('skip' in server) {
    if (process.env[required]) throw new Error(`sweep tests: no ${what} server: ${server.skip}`);
    console.warn(`sweep tests: the queue half is skipped: ${server.skip}`);
  }
}
const workers: ChildProcess[] = [];
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  if ('stop' in redis) await redis.stop();
  if ('stop' in postgres) postgres.stop();
  rmSync(temp, { recursive: true, force: true });
});

const localRuns = path.join(temp, 'local-runs');
const curvesOf = (runDir: string) => curvesIn(runDir, ['lstm', 'fista']);

describe('l2o sweep, local', () => {
  it('runs 2 optimizers × 3 seeds on 2 worker processes, aggregates them, and gives the numbers of one-by-one runs', () => {
    const r = runCli(
      args`sweep ${spec} --scale smoke --seeds 0..2 --workers 2 --runs-dir ${localRuns} --reports-dir ${path.join(temp, 'sweeps')} --cache-dir ${path.join(temp, 'cache-local')} --json`,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      id: string;
      runs: { runId: string; runDir: string; written: boolean }[];
      failed: unknown[];
      report: { dir: string; groups: { aggregate: { seeds: number[]; optimizers: { label: string; gap: { mean: number; half: number }[] }[] } }[] };
    };
    expect(result.failed).toEqual([]);
    expect(result.runs).toHaveLength(3);
    expect(result.runs.every((run) => run.written && existsSync(path.join(run.runDir, 'summary.json')))).toBe(true);
    // Three trainings (one per seed), each cached once.
    expect(readdirSync(path.join(temp, 'cache-local', 'checkpoints')).filter((f) => /^lstm-[0-9a-f]+\.json$/.test(f))).toHaveLength(3);
    // The report: the mean over seeds of each run's gap, with the plots.
    const [group] = result.report.groups;
    expect(group!.aggregate.seeds).toEqual([0, 1, 2]);
    const finalGaps = result.runs.map((run) => curvesOf(run.runDir)[0]!.meanGap[30]!);
    expect(group!.aggregate.optimizers[0]!.gap[30]!.mean).toBeCloseTo(finalGaps.reduce((a, b) => a + b, 0) / 3, 12);
    for (const f of ['report.md', 'convergence.svg', 'convergence.png']) expect(existsSync(path.join(result.report.dir, f)), f).toBe(true);
    // Its live status, which `l2o dashboard` follows: at the end every job completed, the sweep finished.
    const status = JSON.parse(readFileSync(path.join(temp, 'sweeps', result.id, 'status.json'), 'utf8')) as {
      id: string;
      finished: boolean;
      counts: Record<string, number>;
      jobs: { kind: string; state: string; startedAt?: string; finishedAt?: string; seconds?: number; result?: { skipped?: boolean } }[];
    };
    expect(status.id).toBe(result.id);
    expect(status.finished).toBe(true);
    expect(status.jobs.filter((j) => j.kind === 'run')).toHaveLength(3);
    expect(status.jobs.every((j) => j.state === 'completed')).toBe(true);
    // The timeline: every job that ran started before it finished, about its seconds apart.
    for (const j of status.jobs.filter((x) => x.kind !== 'run' && !x.result?.skipped)) {
      const span = (Date.parse(j.finishedAt!) - Date.parse(j.startedAt!)) / 1000;
      expect(span).toBeGreaterThanOrEqual(0);
      expect(Math.abs(span - j.seconds!)).toBeLessThan(1);
    }
    expect(status.counts.completed).toBe(status.jobs.length);

    // Seed 1 run on its own, in one process, with a cache of its own: the same numbers.
    const one = runCli(
      args`experiment run ${spec} --scale smoke --seed 1 --runs-dir ${path.join(temp, 'one-runs')} --cache-dir ${path.join(temp, 'cache-one')} --json`,
    );
    expect(one.code, one.stderr).toBe(0);
    const seed1 = result.runs.find((run) => run.runId.includes('seed1'))!;
    expectCloseCurves(curvesOf(seed1.runDir), curvesOf((JSON.parse(one.stdout) as { runDir: string }).runDir));

    // Run again: everything is there, nothing runs.
    const again = runCli(
      args`sweep ${spec} --scale smoke --seeds 0..2 --workers 2 --runs-dir ${localRuns} --reports-dir ${path.join(temp, 'sweeps')} --cache-dir ${path.join(temp, 'cache-local')} --json`,
    );
    expect(again.code, again.stderr).toBe(0);
    const rerun = JSON.parse(again.stdout) as { runs: { written: boolean }[] };
    expect(rerun.runs.map((run) => run.written)).toEqual([false, false, false]);
    expect(readdirSync(localRuns).filter((d) => d.startsWith('sweeptest-'))).toHaveLength(3);
  }, 600_000);

  it('refuses bad seeds, grids and an unreachable Redis in one line, before any work', () => {
    const seeds = runCli(args`sweep ${spec} --scale smoke --seeds 3..1`);
    expect(seeds.code).toBe(2);
    expectOneLineError(seeds.stderr, /--seeds 3\.\.1: the range ends before it starts/);
    const grid = runCli(args`sweep ${spec} --scale smoke --grid adam.lr=0.1,0.01`);
    expect(grid.code).toBe(2);
    expectOneLineError(grid.stderr, /'adam' is neither an optimizer nor the problem of sweeptest\. Use one of: lstm, fista, lasso/);
    const queue = runCli(args`sweep ${spec} --scale smoke --queue redis://127.0.0.1:1`);
    expect(queue.code).toBe(1);
    expectOneLineError(queue.stderr, /Redis at redis:\/\/127\.0\.0\.1:1 is not reachable/);
  }, 120_000);
});

const queued = 'url' in redis && 'url' in postgres;
describe.runIf(queued)('l2o sweep --queue with two l2o worker processes', () => {
  const queueUrl = 'url' in redis ? redis.url : '';
  const storeUrl = 'url' in postgres ? postgres.url : '';
  const env = { L2O_QUEUE: queueUrl, L2O_STORE: storeUrl };
  const startWorker = (name: string) => {
    const w = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'packages/cli/bin/run.js'),
        ...args`worker --concurrency 1 --stalled-after 2 --runs-dir ${path.join(temp, `runs-${name}`)} --cache-dir ${path.join(temp, `cache-${name}`)}`,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    w.stderr.on('data', (d: Buffer) => (log += d.toString()));
    workers.push(w);
    return { process: w, log: () => log };
  };
  const waitFor = async (id: string, until: (s: SweepStatus) => boolean, timeoutMs: number): Promise<SweepStatus> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await sweepStatus(queueUrl, id);
      if (until(s)) return s;
      if (Date.now() > deadline) throw new Error(`sweep ${id}: timed out; last status ${JSON.stringify(s.counts)}`);
      await sleep(200);
    }
  };

  it('completes every job once although a worker is killed mid-training; the training resumes, and the numbers are the local ones', async () => {
    const submitted = runCli(args`sweep ${spec} --scale smoke --seeds 0..2 --json`, { env });
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id, jobs } = JSON.parse(submitted.stdout) as { id: string; jobs: number };
    expect(jobs).toBe(12); // per seed: train lstm, evaluate lstm, evaluate fista, write the run
    const a = startWorker('a');
    const b = startWorker('b');
    // A training that has saved a resume state (at step 4 or later) in the store: kill its worker outright.
    const store = await openRunStore(storeUrl);
    let victim: SweepStatus['jobs'][number] | undefined;
    const deadline = Date.now() + 240_000;
    while (!victim) {
      const s = await sweepStatus(queueUrl, id);
      for (const j of s.jobs.filter((x) => x.kind === 'train' && x.state === 'active' && (x.progress?.done ?? 0) >= 5)) {
        if ((await store.getJobResult(`resume:${j.key}`)) !== null) victim = j;
      }
      if (Date.now() > deadline) throw new Error(`no training got far enough: ${JSON.stringify(s.counts)}`);
      if (!victim) await sleep(100);
    }
    const pid = Number(victim.progress!.worker.split('-').at(-1));
    const killed = [a, b].find((w) => w.process.pid === pid)!;
    expect(killed, `worker ${victim.progress!.worker}`).toBeDefined();
    killed.process.kill('SIGKILL');
    // The last state the killed worker stored, read after the kill (another worker takes the job
    // only after --stalled-after). An upload the worker had sent just before it died may still
    // commit after this read (CI saw step 4 land after a read of step 2), so the training resumes
    // from this state or a later one of the same worker, never from 0.
    const saved = JSON.parse((await store.getJobResult(`resume:${victim.key}`))!) as { training: { nextStep: number } };
    await store.close();
    expect(saved.training.nextStep).toBeGreaterThanOrEqual(2);

    const done = await waitFor(id, (s) => s.finished, 300_000);
    expect(done.counts, JSON.stringify(done.jobs.filter((j) => j.state !== 'completed'))).toEqual({
      waiting: 0,
      active: 0,
      completed: 12,
      failed: 0,
      cancelled: 0,
    });
    const resumed = done.jobs.find((j) => j.id === victim.id)!;
    // The global step continues from that state, not from 0.
    expect(resumed.result?.resumedAfter, (a.log() + b.log()).slice(-3000)).toBeGreaterThanOrEqual(saved.training.nextStep);
    expect(resumed.result?.resumedAfter).toBeLessThan(24); // a step inside the 24-step training
    expect(resumed.result?.worker).not.toBe(victim.progress!.worker);

    // Each run written once, into the shared store, with the numbers of the local sweep.
    const shared = await openRunStore(storeUrl);
    try {
      const runs = await shared.listRuns({ where: [{ path: ['name'], value: 'sweeptest' }] });
      expect(runs).toHaveLength(3);
      for (const run of runs) {
        const stored = (await shared.getRun(run.id))!;
        expectCloseCurves(stored.curves, curvesOf(path.join(localRuns, run.id)));
      }
    } finally {
      await shared.close();
    }
    const report = runCli(args`sweep report ${id} --out ${path.join(temp, 'report')}`, { env });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/mean over 3 seeds \(0, 1, 2\)/);
    expect(existsSync(path.join(temp, 'report', 'convergence.png'))).toBe(true);
  }, 600_000);

  it('l2o sweep cancel removes waiting jobs and stops running ones', async () => {
    const submitted = runCli(args`sweep ${spec} --scale smoke --seeds 10..13 --json`, { env });
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };
    if (!workers.some((w) => w.exitCode === null && !w.killed)) startWorker('c');
    await waitFor(id, (s) => s.jobs.some((j) => j.kind === 'train' && j.state === 'active'), 120_000);
    const cancel = runCli(args`sweep cancel ${id} --json`, { env });
    expect(cancel.code, cancel.stderr).toBe(0);
    const status = JSON.parse(cancel.stdout) as SweepStatus;
    expect(status.counts.active).toBe(0);
    expect(status.counts.waiting).toBe(0);
    expect(status.counts.completed).toBeLessThan(status.jobs.length);
    // No job process of a worker is left running.
    await sleep(1500);
    const live = workers.filter((w) => w.exitCode === null && !w.killed).map((w) => w.pid);
    const children = live.flatMap((pid) => {
      const out = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
      return out.filter((p) => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
        } catch {
          return false;
        }
      });
    });
    expect(children).toEqual([]);
  }, 300_000);
});
