import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './test-utils/run-cli.js';

const BIN = path.join(REPO_ROOT, 'packages/cli/bin/run.js');
const dir = mkdtempSync(path.join(tmpdir(), 'l2o-sigint-'));
const env = { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off' };
const trainArgs = ['train', '--model', 'lstm', '--problem', 'lasso', '--scale', 'smoke', '--steps', '20', '--validate-every', '1', '--out', 'lstm.json'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('l2o train and Ctrl-C', () => {
  it('saves a resumable checkpoint on SIGINT, and --resume finishes the run', async () => {
    // A real process and a real signal: the training loop must let Node deliver it.
    const child = spawn(process.execPath, [BIN, ...trainArgs], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/train lstm: 3\/20/.test(stderr)) resolve();
      });
      child.once('exit', () => reject(new Error(`l2o train ended before it was interrupted:\n${stderr}`)));
    });
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/saved a resumable checkpoint/);
    expect(existsSync(path.join(dir, 'lstm.json'))).toBe(false);
    const resumeFile = path.join(dir, 'lstm.json.resume');
    const saved = JSON.parse(readFileSync(resumeFile, 'utf8')) as { training: { nextStep: number } };
    expect(saved.training.nextStep).toBeGreaterThanOrEqual(3);
    expect(saved.training.nextStep).toBeLessThan(20);

    const resumed = spawnSync(process.execPath, [BIN, ...trainArgs, '--resume', resumeFile, '--json'], { cwd: dir, env, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const result = JSON.parse(resumed.stdout) as { checkpoint: string; validation: { step: number }[] };
    expect(existsSync(result.checkpoint)).toBe(true);
    // Validation ran at every step before the interruption and every step after it.
    expect(result.validation.map((v) => v.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
