import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, args } from './test-utils/run-cli.js';

const BIN = path.join(REPO_ROOT, 'packages/cli/bin/run.js');
const dir = mkdtempSync(path.join(tmpdir(), 'l2o-interrupts-'));
const env = { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Starts the real binary, sends `signal` once stderr matches `when` (or after `when` ms, or once
 * `when()` holds, polled every 50 ms), `delayMs` later, and waits for the exit.
 */
async function interrupt(
  argv: string[],
  when: RegExp | number | (() => boolean),
  signal: 'SIGINT' | 'SIGTERM',
  delayMs = 0,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (when instanceof RegExp && when.test(stderr)) setTimeout(resolve, delayMs);
    });
    if (typeof when === 'number') setTimeout(resolve, when);
    if (typeof when === 'function') {
      const poll = setInterval(() => {
        if (!when()) return;
        clearInterval(poll);
        setTimeout(resolve, delayMs);
      }, 50);
      child.once('exit', () => clearInterval(poll));
    }
    child.once('exit', () => reject(new Error(`l2o ${argv[0]} ended before it was interrupted:\n${stderr}`)));
  });
  child.kill(signal);
  const code = await exited;
  return { code, stdout, stderr };
}

const listed = (folder: string) => (existsSync(folder) ? readdirSync(folder) : []);

describe('every phase stops on SIGINT and SIGTERM, writes nothing partial, exits 130 / 143', () => {
  it('while F* of the test set is being solved (SIGINT → 130; no run, no cached test set)', async () => {
    const cache = path.join(dir, 'cache-fstar');
    const runs = path.join(dir, 'runs-fstar');
    const argv = args`run --optimizer fista --problem lasso --scale toy --test-count 8192 --iterations 10 --seed 99 --cache-dir ${cache} --runs-dir ${runs}`;
    const started = Date.now();
    const r = await interrupt(argv, /F\* \(reference solver\)/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.stderr).toMatch(/^Error: Interrupted by SIGINT; nothing was written\./m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(listed(runs)).toEqual([]);
    expect(listed(path.join(cache, 'testsets'))).toEqual([]);
  });

  it('while optimizers are evaluated (SIGTERM → 143; no run written), with --json errors on stdout', async () => {
    const runs = path.join(dir, 'runs-eval');
    const argv = args`run --optimizer ista --problem lasso --scale smoke --test-count 64 --iterations 30000 --cache-dir ${path.join(dir, 'cache-eval')} --runs-dir ${runs}`;
    // A second after the test set is solved, well inside the evaluation (about 10 s on one core).
    // Not at its first progress line: without a terminal that comes 5 s after the last, which can
    // be at its end.
    const r = await interrupt(argv, /F\* \(reference solver\): 64\/64/, 'SIGTERM', 1000);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/Interrupted by SIGTERM/);
    expect(listed(runs)).toEqual([]);
    // JSON mode prints no progress: signal once the (now cached) test set is surely loaded.
    const json = await interrupt([...argv, '--json'], 6000, 'SIGTERM');
    expect(json.code, json.stderr).toBe(143);
    // Before its first batch of test instances finished, or after (they are kept: see below).
    const error = (JSON.parse(json.stdout) as { error: { message: string; exitCode: number } }).error;
    expect(error).toMatchObject({ exitCode: 143 });
    expect(error.message).toMatch(
      /^Interrupted by SIGTERM(; nothing was written\.| while evaluating 'ista' \(\d+ of 64 test instances done\); no run was written\.)$/,
    );
    expect(listed(runs)).toEqual([]);
  });

  it('l2o run interrupted while evaluating keeps the finished batches; the same command continues after them, to the numbers of an uninterrupted run', async () => {
    const cache = path.join(dir, 'cache-eval-resume');
    const runs = path.join(dir, 'runs-eval-resume');
    // 4 batches of 16 test instances, a few seconds each.
    const argv = args`run --optimizer ista --problem lasso --scale smoke --test-count 64 --iterations 20000 --cache-dir ${cache} --runs-dir ${runs}`;
    // Once the first batch is kept.
    const kept = () => listed(path.join(cache, 'evaluations')).some((f) => f.endsWith('.partial.json'));
    const r = await interrupt(argv, kept, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /while evaluating 'ista' \((16|32|48) of 64 test instances done\); no run was written\. Its finished batches are kept: run the same command again to continue it\./,
    );
    expect(listed(runs)).toEqual([]);
    expect(listed(path.join(cache, 'evaluations')).filter((f) => f.endsWith('.partial.json'))).toHaveLength(1);

    const again = spawnSync(process.execPath, [BIN, ...argv], { cwd: dir, env, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(listed(path.join(cache, 'evaluations'))).toEqual([]);
    // The same numbers as a run that was never interrupted (its own cache: the same test set).
    const whole = spawnSync(process.execPath, [BIN, ...argv.map((a) => (a === cache ? `${cache}-whole` : a === runs ? `${runs}-whole` : a))], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(whole.status, whole.stderr).toBe(0);
    const meanF = (runsDir: string) =>
      JSON.parse(readFileSync(path.join(runsDir, listed(runsDir)[0]!, 'metrics', 'ista.json'), 'utf8')) as { meanF: number[]; meanGap: number[] };
    const [resumed, uninterrupted] = [meanF(runs), meanF(`${runs}-whole`)];
    expect(resumed.meanF).toEqual(uninterrupted.meanF);
    expect(resumed.meanGap).toEqual(uninterrupted.meanGap);
  });

  it('l2o train on SIGTERM saves its resumable checkpoint and exits 143', async () => {
    const argv = ['train', '--model', 'gru', '--problem', 'lasso', '--scale', 'smoke', '--steps', '30', '--validate-every', '1', '--out', 'gru.json'];
    const r = await interrupt(argv, /train gru: 3\/30/, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expect(existsSync(path.join(dir, 'gru.json.resume'))).toBe(true);
    expect(existsSync(path.join(dir, 'gru.json'))).toBe(false);
    const resumed = spawnSync(process.execPath, [BIN, ...argv, '--resume', 'gru.json.resume'], { cwd: dir, env, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    // A completed run leaves no stale resume file.
    expect(existsSync(path.join(dir, 'gru.json.resume'))).toBe(false);
    expect(existsSync(path.join(dir, 'gru.json'))).toBe(true);
  });

  it('l2o run interrupted while training keeps the training state; the same command continues it', async () => {
    const cache = path.join(dir, 'cache-train');
    const runs = path.join(dir, 'runs-train');
    const argv = args`run --model lstm --problem lasso --scale smoke --steps 40 --against none --cache-dir ${cache} --runs-dir ${runs}`;
    const r = await interrupt(argv, /train lstm: \d+\/40/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /while training 'lstm' \(\d+ of 40 global steps done\); no run was written\. Its training state is saved: run the same command again to continue it\./,
    );
    expect(listed(runs)).toEqual([]);
    const resumeFiles = listed(path.join(cache, 'checkpoints')).filter((f) => f.endsWith('.resume'));
    expect(resumeFiles).toHaveLength(1);

    const again = spawnSync(process.execPath, [BIN, ...argv], { cwd: dir, env, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    // Training went on from where it stopped, not from step 1.
    const firstStep = Number(/train lstm: (\d+)\/40/.exec(again.stderr)?.[1]);
    expect(firstStep).toBeGreaterThan(1);
    expect(listed(path.join(cache, 'checkpoints')).filter((f) => f.endsWith('.resume'))).toEqual([]);
    expect(listed(runs)).toHaveLength(1);
  });
});
