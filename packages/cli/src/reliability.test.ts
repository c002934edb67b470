import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, type CliResult, args, writeResumeOf } from './test-utils/run-cli.js';

// Everyone may enter: the read-only case runs the CLI as an unprivileged user when we are root.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-reliability-'));
chmodSync(temp, 0o777);
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cache = path.join(temp, 'cache');
const at = (...parts: string[]) => path.join(temp, ...parts);
writeFileSync(at('a-file'), 'x');
mkdirSync(at('a-folder'));

/** Exit code `code` and one error line (see expectOneLineError). */
function expectError(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expectOneLineError(r.stderr, pattern);
}

const smokeTrain = ['train', '--model', 'lstm', '--problem', 'lasso', '--scale', 'smoke'];
const smokeRun = ['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache];

describe('output locations are checked before any work (exit 2, nothing trained or written)', () => {
  it('l2o train --out: an existing folder, a path under a file', () => {
    expectError(runCli([...smokeTrain, '--out', at('a-folder')]), 2, /--out .*a-folder is a folder, not a file/);
    const r = runCli([...smokeTrain, '--out', at('a-file', 'x.json')]);
    expectError(r, 2, /--out .*a-file.*which is a file, not a folder/);
    expect(r.stderr).not.toMatch(/train lstm/); // no training started
  });

  it('l2o run --runs-dir: a file, an empty string; l2o export/solve --out: existing folders', () => {
    expectError(runCli([...smokeRun, '--runs-dir', at('a-file')]), 2, /--runs-dir .*a-file is a file, not a folder/);
    const empty = runCli([...smokeRun, '--runs-dir', ''], { cwd: at('a-folder') });
    expectError(empty, 2, /--runs-dir is empty/);
    expect(readdirSync(at('a-folder'))).toEqual([]);
    expectError(
      runCli(['export', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache, '--out', at('a-folder')]),
      2,
      /--out .*a-folder already exists/,
    );
    expectError(
      runCli(['experiment', 'run', 'experiments/paper/fig1.yaml', '--scale', 'smoke', '--cache-dir', cache, '--runs-dir', at('a-file', 'runs')]),
      2,
      /--runs-dir .*under .*a-file, which is a file/,
    );
  });

  it('read-only locations (as an unprivileged user): train --out, run --runs-dir, --cache-dir', () => {
    const locked = at('locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    const home = at('home');
    mkdirSync(home);
    chmodSync(home, 0o777);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const env = { HOME: home, XDG_CACHE_HOME: home };
    const train = runCli([...smokeTrain, '--out', path.join(locked, 'x.json')], { ...asUser, env, cwd: home });
    expectError(train, 2, /--out .*x\.json cannot be created: .*locked is not writable/);
    const run = runCli(['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', locked], { ...asUser, env, cwd: home });
    expectError(run, 2, /--runs-dir .*locked is not writable/);
    const cacheRun = runCli(
      ['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', locked, '--runs-dir', path.join(home, 'runs')],
      { ...asUser, env, cwd: home },
    );
    expectError(cacheRun, 2, /cache folder .*locked is not writable/);
  });

  it('what is written respects the umask (not 0700)', () => {
    const out = at('exported');
    const r = runCli(['export', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // The test runner's umask is usually 022; whatever it is, the folder has the mode it gives.
    const umask = process.umask();
    expect(statSync(out).mode & 0o777).toBe(0o777 & ~umask);
    const runs = at('umask-runs');
    expect(runCli([...smokeRun, '--runs-dir', runs]).code).toBe(0);
    expect(statSync(path.join(runs, readdirSync(runs)[0]!)).mode & 0o777).toBe(0o777 & ~umask);
  });
});

describe('wrong numbers never come out with exit 0', () => {
  it('one diverging optimizer is recorded as diverged; the others are kept', () => {
    const runs = at('diverged-runs');
    const r = runCli(args`run --optimizer fista --optimizer adam -o adam.lr=1e30 --problem lasso --scale smoke --cache-dir ${cache} --runs-dir ${runs} --json`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { summary: { optimizers: { label: string; divergedAt: number | null; finalGap: number }[] } };
    const [fista, adam] = out.summary.optimizers;
    expect(fista).toMatchObject({ label: 'fista', divergedAt: null });
    expect(Number.isFinite(fista!.finalGap)).toBe(true);
    expect(adam!.label).toBe('adam');
    expect(adam!.divergedAt).toBeGreaterThanOrEqual(1);
    const dir = path.join(runs, readdirSync(runs)[0]!);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/\| adam \| diverged at k = \d+ \|/);
  });

  it('an edited checkpoint is refused; one trained on another problem gets a warning', () => {
    const file = at('logistic-lstm.json');
    expect(runCli(['train', '--model', 'lstm', '--problem', 'logistic-l1', '--scale', 'smoke', '--steps', '2', '--out', file]).code).toBe(0);
    const common = args`run --model lstm --checkpoint ${file} --against none --scale smoke --cache-dir ${cache} --runs-dir ${at('ck-problem-runs')}`;
    const other = runCli([...common, '--problem', 'lasso']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(/^warning: .*logistic-l1.*lasso/m);
    const checkpoint = JSON.parse(readFileSync(file, 'utf8')) as { weights: Record<string, { data: number[] }> };
    const first = Object.values(checkpoint.weights)[0]!;
    first.data[0] = first.data[0]! + 0.5;
    writeFileSync(file, JSON.stringify(checkpoint));
    expectError(runCli([...common, '--problem', 'logistic-l1']), 1, /is corrupt: its weights do not match their checksum/);
  });

  it('a truncated cached checkpoint is a cache miss with a warning: trained again', () => {
    const own = at('cache-ck');
    const argv = args`run --model lstm --against none --problem lasso --scale smoke --steps 2 --cache-dir ${own} --runs-dir ${at('cache-ck-runs')}`;
    expect(runCli(argv).code).toBe(0);
    const [name] = readdirSync(path.join(own, 'checkpoints'));
    const cached = path.join(own, 'checkpoints', name!);
    writeFileSync(cached, readFileSync(cached, 'utf8').slice(0, 100));
    const again = runCli(argv);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^warning: cached checkpoint .* is unreadable .*; training again/m);
    expect(again.stderr).toMatch(/train lstm/);
  });

  it('--checkpoint is checked before the test set and F* are built', () => {
    const fresh = at('fresh-cache');
    const r = runCli(args`run --model lstm --checkpoint ${at('missing.json')} --problem lasso --scale smoke --cache-dir ${fresh} --runs-dir ${at('ck-runs')}`);
    expectError(r, 1, /Checkpoint .*missing\.json does not exist/);
    expect(existsSync(path.join(fresh, 'testsets'))).toBe(false);
  });
});

describe('exit codes: 2 for bad usage, with JSON errors in --json mode', () => {
  it('bad model options, training options and worker counts exit 2', () => {
    expectError(
      runCli(['run', '--model', 'gru-mha', '-o', 'gru-mha.attention.heads=3', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache]),
      2,
      /'attention\.heads' of model 'gru-mha' must divide the hidden width 16, got 3\. Use one of 1, 2, 4, 8, 16\./,
    );
    expectError(runCli([...smokeTrain, '--unroll', '7', '--out', at('u.json')]), 2, /multiple of the unroll length \(7\)/);
    expectError(runCli([...smokeTrain, '--workers', '2', '--micro-batch', '8', '--out', at('w.json')]), 2, /2 workers need at least 2 micro-batches/);
    expectError(
      runCli(['run', '--model', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache]),
      2,
      /'fista' is a hand-designed optimizer, not a learned one\. Use --optimizer fista\./,
    );
  });

  it('a YAML model option error names file:line and exits 2', () => {
    const spec = at('heads3.yaml');
    writeFileSync(
      spec,
      [
        'name: heads3',
        'problem: { id: lasso }',
        'test: { dataset: synthetic }',
        'optimizers:',
        '  - id: gru-mha',
        '    options:',
        '      attention: { heads: 3 }',
        '',
      ].join('\n'),
    );
    expectError(
      runCli(['experiment', 'run', spec, '--scale', 'smoke', '--cache-dir', cache]),
      2,
      new RegExp(`${spec}:7: optimizers\\[0\\]\\.options: .*must divide the hidden width 16, got 3`),
    );
    expectError(runCli(['experiment', 'run', at('a-folder'), '--scale', 'smoke']), 2, /a-folder is a folder/);
  });

  it("an optimizer's problem options: a bad value, or on a learned optimizer, names file:line and exits 2", () => {
    const spec = at('tight.yaml');
    const write = (entry: string) =>
      writeFileSync(
        spec,
        ['name: tight', 'problem: { id: logistic-l1, options: { lipschitz: paper } }', 'test: { dataset: synthetic }', 'optimizers:', entry, ''].join('\n'),
      );
    write('  - { id: ista, label: ista-loose, problem: { lipschitz: loose } }');
    expectError(runCli(['experiment', 'run', spec, '--scale', 'smoke', '--dry-run']), 2, new RegExp(`${spec}:5: optimizers\\[0\\]\\.problem: .*lipschitz`));
    write('  - { id: lstm, problem: { lipschitz: tight } }');
    expectError(
      runCli(['experiment', 'run', spec, '--scale', 'smoke', '--dry-run']),
      2,
      new RegExp(`${spec}:5: optimizers\\[0\\]\\.problem: .*for hand-designed ones; 'lstm' is learned`),
    );
  });

  it('errors in --json mode are JSON on stdout as well as the line on stderr', () => {
    const r = runCli([...smokeTrain, '--unroll', '7', '--out', at('j.json'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ error: { message: 'Training iterations (20) must be a multiple of the unroll length (7).', exitCode: 2 } });
    expect(r.stderr).toMatch(/^Error: Training iterations/m);
  });
});

describe('raw errors become one line naming the thing', () => {
  it('a truncated metrics file names the file', () => {
    const runs = at('truncated-runs');
    expect(runCli([...smokeRun, '--runs-dir', runs]).code).toBe(0);
    const dir = path.join(runs, readdirSync(runs)[0]!);
    const metrics = path.join(dir, 'metrics', 'fista.json');
    writeFileSync(metrics, readFileSync(metrics, 'utf8').slice(0, 40));
    expectError(runCli(['report', dir]), 1, new RegExp(`${metrics} is not valid JSON`));
  });

  it("an engine out of memory is one line, without the engine's own abort text", () => {
    // 256 instances at the papers' 250×500 in one pass exceed the WASM heap (4 GB; 128 fit since the
    // fused cells' activations get no gradient of zeros). Where the allocation fails decides which of
    // the two translations the user sees.
    const r = runCli(['bench', '--model', 'lstm', '--repeats', '1', '--batch', '256', '--micro-batch', '256', '--backend', 'wasm']);
    expectError(
      r,
      1,
      /^Error: The (tensor engine ran out of memory \(.*\)|WASM engine aborted: its heap most likely ran out of memory \(Aborted\(\)\))\. Split the batch into smaller micro-batches: leave --micro-batch/,
    );
    expect(r.stderr).not.toMatch(/-sASSERTIONS|Build with/);
  });

  it('a plugin whose register() throws is named', () => {
    const plugin = at('boom-plugin');
    mkdirSync(plugin);
    writeFileSync(
      path.join(plugin, 'package.json'),
      JSON.stringify({ name: 'l2o-plugin-boom', version: '1.0.0', type: 'module', l2o: { plugin: './plugin.js' } }),
    );
    writeFileSync(path.join(plugin, 'plugin.js'), "export function register() { throw new Error('boom'); }\n");
    const r = runCli(['models', '--plugin', plugin]);
    expect(r.stderr).toMatch(/l2o-plugin-boom failed in register\(\): boom/);
  });

  it('a resume with other options names the option that differs', () => {
    const out = at('resume.json');
    const first = runCli([...smokeTrain, '--steps', '4', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    // A resume file trained with another batch size.
    writeResumeOf(out, { batchSize: 4 });
    expectError(
      runCli([...smokeTrain, '--steps', '4', '--out', out, '--resume', `${out}.resume`]),
      2,
      /was trained with other options: batchSize \(saved 4, now 8\)/,
    );
  });
});
