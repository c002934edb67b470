import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pluginTemplate } from './scaffold/plugin-template.js';
import { expectOneLineError, REPO_ROOT, runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-plugins-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
// Scaffolds are used where @l2o/core and @l2o/models are installed: link the workspace's.
symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(temp, 'node_modules'));
const example = path.join(REPO_ROOT, 'examples/l2o-plugin-mingru');
const elasticNet = path.join(REPO_ROOT, 'examples/l2o-plugin-elastic-net');

// A semver version, and a range npm accepts as one comparator: `1.2.3`, `^1.2.3`, `~1.2.3` (strict:
// no `^^`, no `v`, no spaces). `semver` itself is not a declared dependency here, nor typed.
const IDENT = '[0-9A-Za-z-]+';
const VERSION = `(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)\\.(?:0|[1-9]\\d*)(?:-${IDENT}(?:\\.${IDENT})*)?(?:\\+${IDENT}(?:\\.${IDENT})*)?`;
const VALID_RANGE = new RegExp(`^[~^]?${VERSION}$`);
const installed = (pkg: string) => (JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('third-party plugins', () => {
  it('finds the example plugin by path only, lists it, trains and evaluates it', () => {
    expect(runCli(['models']).stdout).not.toMatch(/min-gru/);
    const models = runCli(['models', '--plugin', example, '--json']);
    const minGru = (JSON.parse(models.stdout) as { id: string; parameters: number; package: string }[]).find((m) => m.id === 'min-gru');
    // lift 2→16, gate and candidate 16→16, PA heads 16→16→(1, 1)
    expect(minGru).toMatchObject({ parameters: 2 * 16 + 16 + 2 * (16 * 16 + 16) + (16 * 16 + 16) + 2 * 17, package: 'l2o-plugin-mingru' });
    const run = runCli([
      'run',
      '--plugin',
      example,
      '--model',
      'min-gru',
      '--problem',
      'lasso',
      '--scale',
      'smoke',
      '--json',
      '--runs-dir',
      path.join(temp, 'runs'),
      '--cache-dir',
      path.join(temp, 'cache'),
    ]);
    expect(run.code).toBe(0);
    const summary = (JSON.parse(run.stdout) as { summary: { optimizers: { label: string; kind: string; finalGap: number }[] } }).summary;
    expect(summary.optimizers.map((o) => [o.label, o.kind])).toEqual([
      ['min-gru', 'learned'],
      ['ista', 'baseline'],
      ['fista', 'baseline'],
    ]);
    expect(Number.isFinite(summary.optimizers[0]!.finalGap)).toBe(true);
  });

  it('finds the example problem plugin by path, whose own test passes, and runs a model and FISTA on its elastic net', () => {
    const test = spawnSync(process.execPath, ['--test'], { cwd: elasticNet, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    const plugins = JSON.parse(runCli(['plugins', '--plugin', elasticNet, '--json']).stdout) as { package: string; registers: Record<string, string[]> }[];
    expect(plugins.find((p) => p.package === 'l2o-plugin-elastic-net')?.registers).toEqual({ problem: ['elastic-net'], dataset: ['elastic-net-synthetic'] });
    // No --dataset: the problem's own (the platform's synthetic does not serve it).
    const args = ['run', '--plugin', elasticNet, '--problem', 'elastic-net', '--model', 'gru', '--against', 'fista', '--scale', 'smoke', '--json'];
    const run = runCli([...args, '--runs-dir', path.join(temp, 'runs'), '--cache-dir', path.join(temp, 'cache')]);
    expect(run.code, run.stderr).toBe(0);
    const { summary } = JSON.parse(run.stdout) as { summary: { optimizers: { label: string; finalGap: number }[] } };
    expect(summary.optimizers.map((o) => o.label)).toEqual(['gru', 'fista']);
    for (const o of summary.optimizers) expect(Number.isFinite(o.finalGap)).toBe(true);
  });

  it('scaffolds a plugin package whose own test passes and which l2o discovers', () => {
    const created = runCli(['plugin', 'new', 'l2o-plugin-mygru', '--json'], { cwd: temp });
    expect(created.code).toBe(0);
    const dir = path.join(temp, 'l2o-plugin-mygru');
    // Installable: every range valid; peers on the installed core and models, dev pins for its own test.
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const ranges = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((k) => Object.entries(pkg[k] ?? {}));
    expect(ranges.length).toBeGreaterThan(0);
    for (const [dep, range] of ranges) expect(range, `${dep}: ${range}`).toMatch(VALID_RANGE);
    expect(pkg.peerDependencies).toEqual({ '@l2o/core': `^${installed('core')}`, '@l2o/models': `^${installed('models')}` });
    expect(pkg.devDependencies).toEqual({ '@l2o/core': installed('core'), '@l2o/models': installed('models') });
    expect(() => pluginTemplate('l2o-plugin-x', 'x', { core: `^${installed('core')}`, models: installed('models') })).toThrow(/exact installed version/);
    const test = spawnSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/[#ℹ] pass 1\b/); // node 20 prints TAP ("# pass 1"), node 24 its spec summary ("ℹ pass 1")
    const models = runCli(['models', '--plugin', dir]);
    expect(models.stdout).toMatch(/^mygru\s+1,266 parameters/m);
    // The printed next steps are the ones that work in a folder with nothing installed.
    const other = runCli(['plugin', 'new', 'l2o-plugin-other'], { cwd: temp });
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/^next: cd \.\/l2o-plugin-other && npm install && npm test$/m);
    expect(other.stdout).toMatch(/l2o models --plugin \.\/l2o-plugin-other/);
    const again = runCli(['plugin', 'new', 'l2o-plugin-mygru'], { cwd: temp });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  // Each kind: a package whose own test passes, that l2o lists, and that works in a smoke run.
  it.each([
    ['problem', { problem: ['robust'], dataset: ['robust-random'] }, ['--problem', 'robust', '--optimizer', 'ista', '--against', 'fista'], ['ista', 'fista']],
    ['dataset', { dataset: ['robust'] }, ['--problem', 'lasso', '--dataset', 'robust', '--optimizer', 'ista', '--against', 'fista'], ['ista', 'fista']],
    ['baseline', { optimizer: ['robust'] }, ['--problem', 'lasso', '--optimizer', 'robust', '--against', 'fista'], ['robust', 'fista']],
  ])('scaffolds a %s package whose own test passes, which l2o lists and runs', (kind, registers, runArgs, labels) => {
    const cwd = path.join(temp, `kind-${kind}`);
    mkdirSync(cwd);
    const created = runCli(['plugin', 'new', 'l2o-plugin-robust', '--kind', kind, '--json'], { cwd });
    expect(created.code, created.stderr).toBe(0);
    const dir = path.join(cwd, 'l2o-plugin-robust');
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'package.json', 'plugin.js', 'plugin.test.js']);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { l2o: unknown; peerDependencies: unknown; devDependencies: unknown };
    expect(pkg.l2o).toEqual({ plugin: './plugin.js' });
    expect(pkg.peerDependencies).toEqual({ '@l2o/core': `^${installed('core')}` });
    expect(pkg.devDependencies).toEqual({ '@l2o/core': installed('core') });
    const test = spawnSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/[#ℹ] fail 0\b/);
    const plugins = JSON.parse(runCli(['plugins', '--plugin', dir, '--json']).stdout) as { package: string; registers: Record<string, string[]> }[];
    expect(plugins.find((p) => p.package === 'l2o-plugin-robust')?.registers).toEqual(registers);
    const run = runCli([
      'run',
      '--plugin',
      dir,
      ...runArgs,
      '--scale',
      'smoke',
      '--json',
      '--runs-dir',
      path.join(cwd, 'runs'),
      '--cache-dir',
      path.join(cwd, 'cache'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const { summary } = JSON.parse(run.stdout) as { summary: { optimizers: { label: string; finalGap: number }[] } };
    expect(summary.optimizers.map((o) => o.label)).toEqual(labels);
    for (const o of summary.optimizers) expect(Number.isFinite(o.finalGap), o.label).toBe(true);
  });

  // Each name is refused before anything is written: exit 2, one line with the reason and a fix.
  it.each([
    [
      'node_modules',
      'node_modules',
      /'node_modules' is not a valid name for a new npm package: node_modules is not a valid package name\. .*e\.g\. l2o-plugin-mygru/,
    ],
    ['favicon.ico', 'favicon.ico', /'favicon\.ico' is not a valid name for a new npm package: favicon\.ico is not a valid package name/],
    ['L2o-Plugin-MyGru', 'L2o-Plugin-MyGru', /'L2o-Plugin-MyGru' is not a valid name for a new npm package: name can no longer contain capital letters/],
    ['a 300-character name', 'x'.repeat(300), /'x{40}…' \(300 characters\) is not a valid name for a new npm package: .*more than 214 characters/],
    ['http', 'http', /'http' is the name of a Node\.js built-in module.* Choose another name, e\.g\. l2o-plugin-http\./],
    ['gru', 'gru', /'gru' is already registered as a model by @l2o\/models\. Choose another name, e\.g\. l2o-plugin-my-gru\./],
    ['l2o-plugin-gru', 'l2o-plugin-gru', /'l2o-plugin-gru' gives the model id 'gru', already registered as a model by @l2o\/models\./],
    ['fista', 'fista', /'fista' is already registered as a baseline by @l2o\/baselines\./],
    ['lasso', 'lasso', /'lasso' is already registered as a problem by @l2o\/problems\./],
    [
      '--kind problem l2o-plugin-synthetic',
      'l2o-plugin-synthetic',
      /gives the problem id 'synthetic', already registered as a dataset by @l2o\/datasets\./,
      'problem',
    ],
    ['--kind nonsense', 'l2o-plugin-x', /Expected --kind=nonsense to be one of: model, problem, dataset, baseline/, 'nonsense'],
  ])('refuses the plugin name %s with exit 2 and writes nothing', (_label, name, message, kind?: string) => {
    const cwd = mkdtempSync(path.join(temp, 'refused-'));
    const r = runCli(['plugin', 'new', name, ...(kind ? ['--kind', kind] : [])], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expectOneLineError(r.stderr, message);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('still scaffolds a scoped name whose last part is a built-in module name (its import is @lab/http)', () => {
    const cwd = path.join(temp, 'scoped');
    mkdirSync(cwd);
    const r = runCli(['plugin', 'new', '@lab/http'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(path.join(cwd, 'http')).sort()).toEqual(['README.md', 'package.json', 'plugin.js', 'plugin.test.js']);
  });
});
