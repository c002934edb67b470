import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { args, expectOneLineError, REPO_ROOT, runCli } from './test-utils/run-cli.js';
import { tinySpec } from './test-utils/tiny-spec.js';

// A campaign of two smoke sweeps, stopped by SIGTERM while its second sweep trains, continued from
// its state folder alone in a fresh folder (a fresh clone: empty cache, runs and store), ends with
// the runs of the same campaign run without a stop.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-campaign-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const spec = tinySpec;
/** A checkout of the repository: the specs and the campaign file (its state folder, campaigns/small, comes from a commit or not at all). */
const checkout = (name: string) => {
  const dir = path.join(temp, name);
  mkdirSync(path.join(dir, 'experiments', 'campaigns'), { recursive: true });
  writeFileSync(path.join(dir, 'experiments', 'a.yaml'), spec('camp-a', 4));
  writeFileSync(path.join(dir, 'experiments', 'b.yaml'), spec('camp-b', 24));
  writeFileSync(
    path.join(dir, 'experiments', 'campaigns', 'small.yaml'),
    'entries:\n  - { spec: ../a.yaml, scale: smoke, seeds: 0 }\n  - { spec: ../b.yaml, scale: smoke, seeds: 0..1 }\n',
  );
  return dir;
};
/** The command in `dir`, with the machine's folders (cache, runs) there too: outside the state folder. */
const campaignArgs = (dir: string, command: string) =>
  args`campaign ${command} experiments/campaigns/small.yaml --cache-dir ${path.join(dir, 'cache')} --runs-dir ${path.join(dir, 'runs')}`;
const state = (dir: string) => path.join(dir, 'campaigns', 'small');
const checkpointsOf = (dir: string) => (existsSync(path.join(state(dir), 'checkpoints')) ? readdirSync(path.join(state(dir), 'checkpoints')) : []);
const evaluationsOf = (dir: string) => (existsSync(path.join(state(dir), 'evaluations')) ? readdirSync(path.join(state(dir), 'evaluations')) : []);

interface KeptRuns {
  runs: { id: string; summary: { seed: number }; curves: { optimizer: string; meanF: unknown[]; meanGap: unknown[] }[] }[];
}
const curvesOf = (dir: string, figure: string) =>
  Object.fromEntries(
    (JSON.parse(readFileSync(path.join(state(dir), 'runs', `${figure}.json`), 'utf8')) as KeptRuns).runs.map((r) => [
      r.id,
      r.curves.map((c) => ({ optimizer: c.optimizer, meanF: c.meanF, meanGap: c.meanGap })),
    ]),
  );
/** Equal in shape and text, numbers within a relative 1e-4. */
const expectClose = (got: unknown, want: unknown, where = ''): void => {
  if (typeof want === 'number' && typeof got === 'number') {
    expect(Math.abs(got - want), `${where}: ${got} vs ${want}`).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(want), 1e-12));
  } else if (want && typeof want === 'object') {
    expect(Object.keys(got as object).sort(), where).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expectClose((got as Record<string, unknown>)[k], v, `${where}.${k}`);
  } else expect(got, where).toEqual(want);
};
const sizeOf = (dir: string): number =>
  readdirSync(dir).reduce((n, f) => {
    const p = path.join(dir, f);
    return n + (statSync(p).isDirectory() ? sizeOf(p) : statSync(p).size);
  }, 0);
const filesOf = (dir: string, prefix = ''): string[] =>
  readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? filesOf(path.join(dir, f), `${prefix}${f}/`) : [`${prefix}${f}`]));

describe('l2o campaign', () => {
  const whole = checkout('uninterrupted');
  beforeAll(() => {
    const r = runCli(args`${campaignArgs(whole, 'run')} --workers 2`, { cwd: whole });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/campaign small: 3 of 3 runs done/);
  }, 240_000);

  it('keeps a small state folder: plan, checkpoints, training logs and kept runs, no store and no resume state once done', () => {
    const files = filesOf(state(whole)).sort();
    expect(files.filter((f) => !/^checkpoints\/lstm-[0-9a-f]+(\.training)?\.json$/.test(f))).toEqual(['plan.json', 'runs/camp-a.json', 'runs/camp-b.json']);
    expect(files.filter((f) => /^checkpoints\/lstm-[0-9a-f]+\.json$/.test(f))).toHaveLength(3);
    expect(sizeOf(state(whole))).toBeLessThan(1024 * 1024);
    const plan = JSON.parse(readFileSync(path.join(state(whole), 'plan.json'), 'utf8')) as {
      entries: {
        figure: string;
        status: string;
        jobs: Record<string, { kind: string; label?: string; seed: number; done: boolean; engine?: string; seconds?: number }>;
      }[];
    };
    expect(plan.entries.map((e) => [e.figure, e.status])).toEqual([
      ['camp-a', 'done'],
      ['camp-b', 'done'],
    ]);
    for (const job of plan.entries.flatMap((e) => Object.values(e.jobs)))
      expect(job).toMatchObject({ done: true, engine: expect.any(String), seconds: expect.any(Number) });
    // An evaluation's time is the evaluation's own (its curve's, over all its sessions), not its job process's.
    const kept = JSON.parse(readFileSync(path.join(state(whole), 'runs', 'camp-b.json'), 'utf8')) as {
      runs: { summary: { seed: number }; curves: { optimizer: string; seconds: number }[] }[];
    };
    const evaluations = Object.values(plan.entries[1]!.jobs);
    for (const run of kept.runs)
      for (const curve of run.curves) {
        const job = evaluations.find((j) => j.kind === 'evaluate' && j.label === curve.optimizer && j.seed === run.summary.seed);
        expect(Math.abs(job!.seconds! - curve.seconds), `${curve.optimizer} seed ${run.summary.seed}`).toBeLessThanOrEqual(0.051);
      }
  });

  it('stopped while its second sweep trains, continues from its committed state alone in a fresh clone, to the same runs', async () => {
    const first = checkout('first-machine');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/cli/bin/run.js'), ...campaignArgs(first, 'run'), '--workers', '2'], {
      cwd: first,
      env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Stopped as soon as a training of the second sweep and one of its evaluations are kept (its runs
    // are not written yet; its two trainings run at once and may both be done by then).
    const deadline = Date.now() + 180_000;
    while (checkpointsOf(first).filter((f) => /^lstm-[0-9a-f]+\.json$/.test(f)).length < 2 || !evaluationsOf(first).length) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no second training finished:\n${stderr}`);
      await sleep(50);
    }
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(143);
    expect(stderr).toMatch(/Interrupted: the campaign stopped with 1 of 3 runs done/);
    const kept = checkpointsOf(first).filter((f) => /^lstm-[0-9a-f]+\.json$/.test(f));
    const resumes = checkpointsOf(first).filter((f) => f.endsWith('.resume.json'));
    const evaluations = evaluationsOf(first);

    // A fresh clone: the checkout and the committed state folder, nothing else.
    const fresh = checkout('fresh-clone');
    cpSync(state(first), state(fresh), { recursive: true });
    const status = runCli(args`${campaignArgs(fresh, 'status')} --no-estimate`, { cwd: fresh });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/campaign small: 1 of 3 runs done/);
    expect(status.stdout).toMatch(/1\. camp-a smoke seeds 0: done, runs 1\/1, trainings 1\/1, evaluations 2\/2/);
    expect(status.stdout).toMatch(
      new RegExp(`2\\. camp-b smoke seeds 0,1: remaining, runs 0/2, trainings ${kept.length - 1}/2, evaluations ${evaluations.length}/4`),
    );

    // Each training under way once, with its pace so far (camp-b's trainings are not shared).
    if (resumes.length)
      expect(status.stdout).toMatch(
        /\ntrainings under way:\n {2}lstm seed \d \(camp-b\): at step \d+ of 24; .+ so far, [\d.]+ s a step: about .+ more at that pace\n/,
      );
    else expect(status.stdout).not.toMatch(/trainings under way/);

    const r = runCli(args`${campaignArgs(fresh, 'run')} --workers 2`, { cwd: fresh });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[entry 1\/2\] camp-a at smoke scale: 1 of 1 runs done\n/);
    expect(r.stderr).toMatch(/\[entry 2\/2\] camp-b at smoke scale: 0 of 2 runs done/);
    // The entries' jobs run as one sweep, each line naming its figure.
    expect(r.stderr).toMatch(/\[\d+\/\d+\] camp-b: write run camp-b-smoke-seed0-/);
    // The trainings kept before the stop are not trained again; the other trains (or resumes) once.
    expect(r.stderr.match(/train lstm \(seed \d\) done \(cached\)/g)).toHaveLength(kept.length - 1);
    expect(r.stderr.match(/train lstm \(seed \d\) \d+\.\d s/g) ?? []).toHaveLength(3 - kept.length);
    expect(r.stderr).toMatch(new RegExp(`from campaigns/small: ${kept.length} finished trainings and ${resumes.length} resume state`));
    // The evaluations kept before the stop are not evaluated again; their files go once their runs are written.
    expect(r.stderr).toMatch(new RegExp(`from campaigns/small: ${evaluations.length} finished evaluations? kept`));
    expect(r.stderr.match(/evaluate \w+ \(seed \d\) done \(kept\)/g)).toHaveLength(evaluations.length);
    expect(evaluationsOf(fresh)).toEqual([]);
    expect(checkpointsOf(fresh).filter((f) => f.endsWith('.resume.json'))).toEqual([]);
    if (resumes.length) {
      // The interrupted training continued from its kept state (its log says after which step).
      const key = resumes[0]!.replace(/\.resume\.json$/, '');
      const log = JSON.parse(readFileSync(path.join(state(fresh), 'checkpoints', `${key}.training.json`), 'utf8')) as { resumedAfter: number; seconds: number };
      expect(log.resumedAfter).toBeGreaterThan(0);
      // The plan records its time over both sessions, as its log does (not only the second process's).
      type Session = { fromStep: number; toStep: number; seconds: number; commit?: string; engine?: string };
      type Job = { seconds?: number; commit?: string; engine?: string; sessions?: Session[] };
      const plan = JSON.parse(readFileSync(path.join(state(fresh), 'plan.json'), 'utf8')) as { entries: { jobs: Record<string, Job> }[] };
      const job = plan.entries[1]!.jobs[key]!;
      expect(job.seconds).toBeCloseTo(log.seconds, 1);
      // And the two sessions that made it: their steps, time, and the commit and engine of each (the job processes').
      expect(job.sessions!.map(({ fromStep, toStep, commit, engine }) => ({ fromStep, toStep, commit, engine }))).toEqual([
        { fromStep: 0, toStep: log.resumedAfter, commit: job.commit, engine: job.engine },
        { fromStep: log.resumedAfter, toStep: 24, commit: job.commit, engine: job.engine },
      ]);
      expect(job.commit).toMatch(/^[0-9a-f]{40}/);
      expect(job.sessions![0]!.seconds + job.sessions![1]!.seconds).toBeCloseTo(log.seconds, 0);
    }
    expect(curvesOf(fresh, 'camp-a')).toEqual(curvesOf(whole, 'camp-a'));
    // A resumed training ends within float32 rounding of the uninterrupted one, not bit for bit
    // (the meta-optimizer's state comes back through tfjs's setWeights), so its curves are compared so.
    expectClose(curvesOf(fresh, 'camp-b'), curvesOf(whole, 'camp-b'));
    expect(Object.keys(curvesOf(fresh, 'camp-b'))).toHaveLength(2);
    expect(sizeOf(state(fresh))).toBeLessThan(1024 * 1024);
    expect(filesOf(state(fresh)).filter((f) => !/^(plan\.json|runs\/camp-[ab]\.json|checkpoints\/lstm-[0-9a-f]+(\.training)?\.json)$/.test(f))).toEqual([]);
  }, 300_000);

  it('refuses a bad campaign file or --stop-after in one line, exit 2, before any work', () => {
    const dir = checkout('bad');
    writeFileSync(path.join(dir, 'experiments', 'campaigns', 'small.yaml'), 'entries:\n  - { spec: ../a.yaml, scale: smoke }\n');
    const noSeeds = runCli(campaignArgs(dir, 'run'), { cwd: dir });
    expect(noSeeds.code).toBe(2);
    expectOneLineError(noSeeds.stderr, /small\.yaml: entry 1 has no seeds/);
    const late = runCli(args`${campaignArgs(checkout('bad-flag'), 'run')} --stop-after soon`, { cwd: path.join(temp, 'bad-flag') });
    expect(late.code).toBe(2);
    expectOneLineError(late.stderr, /--stop-after soon is not a positive number of minutes/);
    expect(existsSync(path.join(dir, 'campaigns'))).toBe(false);
  });
});
