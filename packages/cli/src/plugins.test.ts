import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-plugins-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const example = path.join(REPO_ROOT, 'examples/l2o-plugin-mingru');

describe('third-party plugins', () => {
  it('finds the example plugin by path only, lists it, trains and evaluates it', () => {
    expect(runCli(['models']).stdout).not.toMatch(/min-gru/);
    const models = runCli(['models', '--plugin', example, '--json']);
    const minGru = (JSON.parse(models.stdout) as { id: string; parameters: number; package: string }[]).find((m) => m.id === 'min-gru');
    // lift 2→16, gate and candidate 16→16, PA heads 16→16→(1, 1)
    expect(minGru).toMatchObject({ parameters: 2 * 16 + 16 + 2 * (16 * 16 + 16) + (16 * 16 + 16) + 2 * 17, package: 'l2o-plugin-mingru' });
    const run = runCli(['run', '--plugin', example, '--model', 'min-gru', '--problem', 'lasso', '--scale', 'smoke', '--json',
      '--runs-dir', path.join(temp, 'runs'), '--cache-dir', path.join(temp, 'cache')]);
    expect(run.code).toBe(0);
    const summary = (JSON.parse(run.stdout) as { summary: { optimizers: { label: string; kind: string; finalGap: number }[] } }).summary;
    expect(summary.optimizers.map((o) => [o.label, o.kind])).toEqual([['min-gru', 'learned'], ['ista', 'baseline'], ['fista', 'baseline']]);
    expect(Number.isFinite(summary.optimizers[0]!.finalGap)).toBe(true);
  });

  it('scaffolds a plugin package whose own test passes and which l2o discovers', () => {
    // The scaffold is used where @l2o/core and @l2o/models are installed: link the workspace's.
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(temp, 'node_modules'));
    const created = runCli(['plugin', 'new', 'l2o-plugin-mygru', '--json'], { cwd: temp });
    expect(created.code).toBe(0);
    const dir = path.join(temp, 'l2o-plugin-mygru');
    const test = spawnSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/# pass 1/);
    const models = runCli(['models', '--plugin', dir]);
    expect(models.stdout).toMatch(/^mygru\s+1,266 parameters/m);
    const again = runCli(['plugin', 'new', 'l2o-plugin-mygru'], { cwd: temp });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
