import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { args, REPO_ROOT, runCli } from './test-utils/run-cli.js';
import { tinySpec } from './test-utils/tiny-spec.js';

// A local `l2o sweep` run again, resumed, over a damaged cache, and stopped by SIGTERM: what it
// does and what its status file (which `l2o dashboard` follows) says. Tiny trainings, 2 seeds.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-sweep-rerun-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const specOf = (name: string, globalSteps: number) => {
  const file = path.join(temp, `${name}.yaml`);
  writeFileSync(file, tinySpec(name, globalSteps));
  return file;
};
const spec = specOf('rerun', 4);

interface Status {
  counts: Record<string, number>;
  jobs: {
    kind: string;
    key: string;
    seed: number;
    state: string;
    error?: string;
    progress?: { done: number };
    result?: { skipped?: boolean; cached?: boolean };
  }[];
}
const statusOf = (reports: string): Status => {
  const [id] = readdirSync(reports);
  return JSON.parse(readFileSync(path.join(reports, id!, 'status.json'), 'utf8')) as Status;
};
/** A sweep of `spec` over seeds 0 and 1 in folders under `dir` (its own runs, reports and cache). */
const sweep = (dir: string, file = spec) =>
  runCli(
    args`sweep ${file} --scale smoke --seeds 0..1 --workers 2 --runs-dir ${path.join(dir, 'runs')} --reports-dir ${path.join(dir, 'sweeps')} --cache-dir ${path.join(dir, 'cache')}`,
  );
const checkpoints = (dir: string) =>
  readdirSync(path.join(dir, 'cache', 'checkpoints'))
    .filter((f) => /^lstm-[0-9a-f]+\.json$/.test(f))
    .map((f) => path.join(dir, 'cache', 'checkpoints', f));
const editJson = (file: string, edit: (j: Record<string, any>) => void) => {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
};
/** A copy of the finished sweep's folders, without the run of seed 0 and its report: that run is to be written again. */
const copyWithoutSeed0 = (name: string) => {
  const dir = path.join(temp, name);
  cpSync(path.join(temp, 'done'), dir, { recursive: true });
  rmSync(path.join(dir, 'sweeps'), { recursive: true });
  for (const run of readdirSync(path.join(dir, 'runs')).filter((d) => d.includes('-seed0-'))) rmSync(path.join(dir, 'runs', run), { recursive: true });
  return dir;
};

describe('l2o sweep run again', () => {
  beforeAll(() => {
    const first = sweep(path.join(temp, 'done'));
    expect(first.code, first.stderr).toBe(0);
  }, 120_000);

  it('a finished sweep, run again, records every job done from the cache; a resumed one counts what exists', () => {
    const dir = path.join(temp, 'done');
    const again = sweep(dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/2 of 2 runs/);
    const status = statusOf(path.join(dir, 'sweeps'));
    expect(status.counts).toEqual({ waiting: 0, active: 0, completed: 8, failed: 0, cancelled: 0 });
    expect(status.jobs.every((j) => j.result?.cached === true)).toBe(true);
    expect(again.stderr).toMatch(/\[8\/8\] write run rerun-smoke-seed1-\S+ done \(cached\)/);

    // Resumed: the run of seed 0 is missing; its evaluations run, the rest is there already.
    const resumed = copyWithoutSeed0('resumed');
    const r = sweep(resumed);
    expect(r.code, r.stderr).toBe(0);
    const after = statusOf(path.join(resumed, 'sweeps'));
    expect(after.counts).toEqual({ waiting: 0, active: 0, completed: 8, failed: 0, cancelled: 0 });
    const cached = after.jobs.filter((j) => j.result?.cached).map((j) => `${j.kind} ${j.seed}`);
    expect(cached.sort()).toEqual(['evaluate 1', 'evaluate 1', 'run 1', 'train 0', 'train 1']);
  }, 120_000);

  it('a cached checkpoint that fails its checksum is trained again before its evaluation, in the same sweep', () => {
    const dir = copyWithoutSeed0('corrupt');
    const seed0Key = statusOf(path.join(temp, 'done', 'sweeps')).jobs.find((j) => j.kind === 'train' && j.seed === 0)!.key;
    const file = checkpoints(dir).find((f) => path.basename(f) === `${seed0Key}.json`)!;
    editJson(file, (j) => {
      const first = Object.keys(j.weights as object)[0]!;
      j.weights[first].data[0] += 1;
    });
    const r = sweep(dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain(`cached checkpoint ${file} is unreadable`);
    expect(r.stderr).not.toMatch(/failed|no trained checkpoint/);
    expect(r.stdout).toMatch(/2 of 2 runs/);
    const trained = statusOf(path.join(dir, 'sweeps')).jobs.find((j) => j.key === seed0Key)!;
    expect(trained).toMatchObject({ state: 'completed', result: { skipped: false } });
    expect(existsSync(file)).toBe(true);
  }, 120_000);

  it('a cached checkpoint with an edited config fails its evaluation naming the file and the fix', () => {
    const dir = copyWithoutSeed0('edited');
    const seed0Key = statusOf(path.join(temp, 'done', 'sweeps')).jobs.find((j) => j.kind === 'train' && j.seed === 0)!.key;
    const file = path.join(dir, 'cache', 'checkpoints', `${seed0Key}.json`);
    editJson(file, (j) => (j.config.hidden = (j.config.hidden as number) + 1));
    const r = sweep(dir);
    expect(r.code, r.stderr).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.startsWith('failed: evaluate'));
    expect(line, r.stdout).toContain(`Checkpoint ${file}: its config of 'lstm' differs in hidden`);
    expect(line).toMatch(/delete it to train again \(or pass --retrain/);
  }, 120_000);
});

describe('l2o sweep stopped by SIGTERM', () => {
  it('says SIGTERM, retries nothing, and reports the running job interrupted and the others not run', async () => {
    const dir = path.join(temp, 'stopped');
    const reports = path.join(dir, 'sweeps');
    const child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'packages/cli/bin/run.js'),
        ...args`sweep ${specOf('stopped', 100_000)} --scale smoke --seeds 0..1 --workers 1 --runs-dir ${path.join(dir, 'runs')} --reports-dir ${reports} --cache-dir ${path.join(dir, 'cache')}`,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Once a training has made progress (the status file says so), stop the sweep's own process.
    const deadline = Date.now() + 60_000;
    // A sweep of 100 000 steps is not left running when the test fails (its job processes exit with it).
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    for (;;) {
      const training =
        existsSync(reports) && readdirSync(reports).length
          ? statusOf(reports).jobs.some((j) => j.kind === 'train' && j.state === 'active' && j.progress?.done)
          : false;
      if (training) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no training got going:\n${stderr}`);
      await sleep(100);
    }
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(143);
    expect(stderr).toMatch(/train lstm \(seed \d\) interrupted: Interrupted by SIGTERM while training 'lstm'/);
    expect(stderr).not.toMatch(/SIGINT|retrying|giving up|failed/);
    expect(stderr).toMatch(/not run \(interrupted\)/);
    const status = statusOf(reports);
    expect(status.counts).toMatchObject({ waiting: 0, active: 0, failed: 0 });
    const states = status.jobs.filter((j) => j.state !== 'completed').map((j) => [j.kind, j.state, j.error]);
    expect(states.filter(([kind]) => kind === 'train')).toEqual([
      ['train', 'cancelled', 'interrupted'],
      ['train', 'cancelled', 'not run (interrupted)'],
    ]);
    expect(states.filter(([kind]) => kind !== 'train').every(([, state, error]) => state === 'cancelled' && error === 'not run (interrupted)')).toBe(true);
  }, 120_000);
});
