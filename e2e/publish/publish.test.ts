/**
 * The packages work without the monorepo: version them with changesets, publish them to a
 * local verdaccio registry, install @l2o/cli from it into a fresh project and use it there.
 * Needs the packages built (Nx runs `build` first) and the public npm registry, which verdaccio
 * proxies for third-party dependencies.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGES = ['core', 'wasm-kernels', 'models', 'problems', 'baselines', 'datasets', 'report', 'store', 'sweep', 'dashboard', 'pretrained', 'cli'];
const CHANGESET_BIN = path.join(REPO_ROOT, 'node_modules/@changesets/cli/bin.js');

let work: string;
let registry: LocalRegistry;
let env: NodeJS.ProcessEnv;

function run(command: string, args: string[], cwd: string, runEnv: NodeJS.ProcessEnv = env): string {
  const r = spawnSync(command, args, { cwd, env: runEnv, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status} in ${cwd}\n${r.stdout}\n${r.stderr}\n--- registry log ---\n${registry.log()}`);
  }
  return r.stdout;
}

/** The fields of a package.json these tests read. */
interface PackageJson {
  version: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  scripts?: Record<string, string>;
}
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'l2o-publish-'));
  mkdirSync(path.join(work, 'registry'));
  const upstream = process.env.npm_config_registry || spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim();
  registry = await startLocalRegistry(path.join(work, 'registry'), upstream || 'https://registry.npmjs.org/');
  const npmrc = path.join(work, '.npmrc');
  const host = registry.url.replace(/^http:/, '');
  writeFileSync(npmrc, `registry=${registry.url}\n${host}:_authToken=${registry.token}\n`);
  // npm passes its own npm_config_* settings to scripts (we run under `npm test`); ours win.
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_'))),
    npm_config_userconfig: npmrc,
    npm_config_registry: registry.url,
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    GIT_AUTHOR_NAME: 'l2o ci',
    GIT_AUTHOR_EMAIL: 'ci@localhost',
    GIT_COMMITTER_NAME: 'l2o ci',
    GIT_COMMITTER_EMAIL: 'ci@localhost',
    NODE_ENV: 'production',
    L2O_BACKEND: 'wasm',
    L2O_CACHE_DIR: path.join(work, 'cache'),
  };
});

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('publishing to a local registry', () => {
  it('versions with changesets, publishes every package, and the installed CLI works on its own', () => {
    // A copy of the workspace (built packages, changesets config) in a git repository of its own,
    // so versioning never touches the checkout.
    const repo = path.join(work, 'repo');
    mkdirSync(repo);
    for (const file of ['package.json', 'README.md', 'LICENSE']) {
      if (existsSync(path.join(REPO_ROOT, file))) cpSync(path.join(REPO_ROOT, file), path.join(repo, file));
    }
    cpSync(path.join(REPO_ROOT, '.changeset/config.json'), path.join(repo, '.changeset/config.json'));
    for (const name of PACKAGES) {
      const from = path.join(REPO_ROOT, 'packages', name);
      expect(existsSync(path.join(from, 'dist/index.js')), `packages/${name} is not built`).toBe(true);
      cpSync(from, path.join(repo, 'packages', name), { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
    }
    const before = Object.fromEntries(PACKAGES.map((n) => [n, readJson(path.join(repo, 'packages', n, 'package.json')).version]));
    writeFileSync(path.join(repo, '.changeset/local-registry-test.md'), '---\n"@l2o/core": patch\n---\n\nRelease through the local registry test.\n');
    run('git', ['init', '-q', '-b', 'main'], repo);
    run('git', ['add', '-A'], repo);
    run('git', ['commit', '-q', '-m', 'workspace snapshot'], repo);

    run(process.execPath, [CHANGESET_BIN, 'version'], repo);
    const pkg = (n: string) => readJson(path.join(repo, 'packages', n, 'package.json'));
    const bump = (v: string) => v.replace(/(\d+)$/, (d) => String(Number(d) + 1));
    // core gets its patch; the CLI pins core exactly, so it is bumped with the new pin; the
    // plugins' peer range ^x.y.z still admits the new core, so they keep their version.
    expect(pkg('core').version).toBe(bump(before.core));
    expect(readFileSync(path.join(repo, 'packages/core/CHANGELOG.md'), 'utf8')).toContain('Release through the local registry test.');
    expect(pkg('cli').version).toBe(bump(before.cli));
    expect(pkg('cli').dependencies['@l2o/core']).toBe(pkg('core').version);
    expect(readFileSync(path.join(repo, 'packages/cli/CHANGELOG.md'), 'utf8')).toMatch(/Updated dependencies/);
    expect(pkg('models').version).toBe(before.models);
    expect([`^${before.core}`, `^${pkg('core').version}`]).toContain(pkg('models').peerDependencies['@l2o/core']);

    const published = run(process.execPath, [CHANGESET_BIN, 'publish'], repo);
    for (const name of PACKAGES) expect(published).toContain(`@l2o/${name}`);
    for (const name of PACKAGES) {
      const info = JSON.parse(run('npm', ['view', `@l2o/${name}`, 'versions', '--json'], repo)) as string[] | string;
      expect([info].flat()).toContain(pkg(name).version);
    }

    // A fresh project that knows nothing of the monorepo.
    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'l2o-user-project', private: true, type: 'module' }, null, 2));
    run('npm', ['install', `@l2o/cli@${pkg('cli').version}`], app);

    // The tarballs hold built code and type declarations, not sources or tests.
    for (const name of PACKAGES) {
      const installed = path.join(app, 'node_modules/@l2o', name);
      expect(readJson(path.join(installed, 'package.json')).version).toBe(pkg(name).version);
      expect(existsSync(path.join(installed, 'dist/index.js'))).toBe(true);
      expect(existsSync(path.join(installed, 'dist/index.d.ts'))).toBe(true);
      expect(existsSync(path.join(installed, 'src'))).toBe(false);
      const files = readdirSync(path.join(installed, 'dist'), { recursive: true }) as string[];
      expect(files.filter((f) => /\.test\./.test(f))).toEqual([]);
    }
    // One core for everyone: plugins (and the report, store and sweep packages) share the host's tfjs engine and registry.
    for (const name of ['wasm-kernels', 'models', 'problems', 'baselines', 'datasets', 'report', 'store', 'sweep', 'dashboard']) {
      expect(existsSync(path.join(app, 'node_modules/@l2o', name, 'node_modules/@l2o/core'))).toBe(false);
    }

    // The dashboard's page is built into its package (the browser bundle and tfjs's WASM binaries).
    for (const file of ['index.html', 'app.js', 'tfjs-backend-wasm.wasm']) {
      expect(existsSync(path.join(app, 'node_modules/@l2o/dashboard/dist/web', file)), file).toBe(true);
    }

    const l2o = path.join(app, 'node_modules/.bin/l2o');
    const plugins = JSON.parse(run(l2o, ['plugins', '--json'], app)) as { package: string; path: string; registers: Record<string, string[]> }[];
    const byName = Object.fromEntries(plugins.map((p) => [p.package, p]));
    for (const name of ['models', 'problems', 'baselines', 'datasets']) {
      expect(byName[`@l2o/${name}`], `@l2o/${name} not discovered`).toBeDefined();
      expect(byName[`@l2o/${name}`].path.startsWith(app)).toBe(true);
    }
    expect(byName['@l2o/models'].registers.model).toEqual(expect.arrayContaining(['l2o-dm', 'rnnprop', 'lstm', 'gru', 'gru-mha']));

    const result = JSON.parse(run(l2o, ['run', '--model', 'gru-mha', '--problem', 'lasso', '--dataset', 'synthetic', '--scale', 'smoke', '--json'], app)) as {
      runDir: string;
      curves: { optimizer: string; meanGap: number[] }[];
    };
    const runDir = path.resolve(app, result.runDir);
    expect(runDir.startsWith(app)).toBe(true);
    expect(existsSync(path.join(runDir, 'summary.md'))).toBe(true);
    expect(result.curves.map((c) => c.optimizer).sort()).toEqual(['fista', 'gru-mha', 'ista']);
    for (const curve of result.curves) expect(curve.meanGap.every(Number.isFinite)).toBe(true);

    // The pretrained weights come with the CLI and run with no training (their files inside the installed package).
    const pretrained = JSON.parse(run(l2o, ['models', '--pretrained', '--json'], app)) as { model: string; name: string; checkpoint: string }[];
    expect(
      pretrained
        .find((p) => p.model === 'gru-mha' && p.name === 'lasso-20x40')
        ?.checkpoint.startsWith(path.join(app, 'node_modules/@l2o/pretrained/dist/checkpoints')),
    ).toBe(true);
    const fromPretrained = JSON.parse(
      run(l2o, ['run', '--model', 'gru-mha', '--pretrained', 'lasso-20x40', '--problem', 'lasso', '--scale', 'smoke', '--against', 'none', '--json'], app),
    ) as { curves: { optimizer: string; meanGap: number[] }[] };
    const gaps = fromPretrained.curves[0]!.meanGap;
    expect(gaps.at(-1)!).toBeLessThan(gaps[0]! / 10);

    // A plugin author, as the published CLI tells them: scaffold, install, test, then install the
    // package next to @l2o/cli, where l2o finds it with no configuration.
    const author = path.join(work, 'author');
    mkdirSync(author);
    const created = run(l2o, ['plugin', 'new', 'l2o-plugin-mygru'], author);
    const plugin = path.join(author, 'l2o-plugin-mygru');
    // An author's shell, not a production deploy: npm would leave out the dev dependencies.
    const authorEnv = { ...env };
    delete authorEnv.NODE_ENV;
    // Same registry; its tarballs and metadata are in the cache since the install above.
    run('npm', ['install', '--prefer-offline'], plugin, authorEnv);
    expect(run('npm', ['test'], plugin, authorEnv)).toMatch(/[#ℹ] pass 1\b/); // node 20: TAP, node 24: spec reporter
    expect(created).toMatch(/^next: cd \.\/l2o-plugin-mygru && npm install && npm test$/m);
    const scaffolded = readJson(path.join(plugin, 'package.json'));
    expect(scaffolded.peerDependencies).toEqual({ '@l2o/core': `^${pkg('core').version}`, '@l2o/models': `^${pkg('models').version}` });
    if (scaffolded.scripts?.build) run('npm', ['run', 'build'], plugin, authorEnv);
    const listed = (out: string) => (JSON.parse(out) as { id: string; parameters: number; package: string }[]).find((m) => m.id === 'mygru');
    expect(listed(run(l2o, ['models', '--plugin', './l2o-plugin-mygru', '--json'], author))).toMatchObject({ package: 'l2o-plugin-mygru' });
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], plugin, authorEnv)) as { filename: string }[];
    run('npm', ['install', path.join(work, packed.filename)], app);
    expect(existsSync(path.join(app, 'node_modules/l2o-plugin-mygru/node_modules'))).toBe(false);
    expect(listed(run(l2o, ['models', '--json'], app))).toMatchObject({ package: 'l2o-plugin-mygru', parameters: 1266 });

    // The example problem plugin, packed from the checkout and installed next to @l2o/cli like any
    // third-party package: found with no configuration, its problem runs with its own dataset.
    const [example] = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', work], path.join(REPO_ROOT, 'examples/l2o-plugin-elastic-net'), authorEnv),
    ) as {
      filename: string;
    }[];
    run('npm', ['install', path.join(work, example.filename)], app);
    expect(existsSync(path.join(app, 'node_modules/l2o-plugin-elastic-net/node_modules'))).toBe(false);
    const withExample = JSON.parse(run(l2o, ['plugins', '--json'], app)) as { package: string; registers: Record<string, string[]> }[];
    expect(withExample.find((p) => p.package === 'l2o-plugin-elastic-net')?.registers).toEqual({
      problem: ['elastic-net'],
      dataset: ['elastic-net-synthetic'],
    });
    const elastic = JSON.parse(run(l2o, ['run', '--problem', 'elastic-net', '--model', 'gru', '--against', 'fista', '--scale', 'smoke', '--json'], app)) as {
      curves: { optimizer: string; meanGap: number[] }[];
    };
    expect(elastic.curves.map((c) => c.optimizer).sort()).toEqual(['fista', 'gru']);
    for (const curve of elastic.curves) expect(curve.meanGap.every(Number.isFinite)).toBe(true);
  });
});
