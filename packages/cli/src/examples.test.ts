import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Config } from '@oclif/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisForTests } from '../../sweep/src/test-utils/redis-server.js';
import { docPages, l2oShellLines } from './test-utils/doc-pages.js';
import { REPO_ROOT, SHARED_DATASETS, runCli, writeResumeOf } from './test-utils/run-cli.js';

/**
 * Every example in every command's --help and every `l2o` line in the shell blocks of the README
 * and the docs/ pages runs here. Commands that do long work (training, solving, downloading, timing) run with --dry-run,
 * which makes them check every id, option, input and output and stop; the rest run for real.
 * Inputs an example refers to (an exported folder, a checkpoint, runs, a plugin) are made first.
 */
// `export` runs for real: the `solve` examples after it read what it wrote.
// `dashboard` would serve until stopped: its dry run checks the store, the queue and the port.
const DRY_RUN = new Set(['run', 'train', 'experiment run', 'bench', 'solve', 'datasets fetch', 'sweep', 'worker', 'dashboard', 'campaign run']);
const dataDir = process.env.L2O_DATA_DIR || SHARED_DATASETS;
const fullData = existsSync(path.join(dataDir, 'uci/spambase.data')) && existsSync(path.join(dataDir, 'bsds500/images/test'));
const REAL_DATA = /\b(bsds500|ionosphere|spambase|fig[2467]\.yaml)\b/;
const QUEUE = /redis:\/\//;
if (!fullData) console.warn(`examples.test: skipping the examples on real data sets: none in ${dataDir} (set L2O_DATA_DIR)`);

const work = mkdtempSync(path.join(os.tmpdir(), 'l2o-examples-'));
const env = { L2O_CACHE_DIR: path.join(work, 'cache'), L2O_STORE: path.join(work, 'store'), ...(fullData ? { L2O_DATA_DIR: dataDir } : {}) };
// The sweep queue's examples (redis://…) run against a Redis of the tests' own, on a sweep made first.
const redis = await redisForTests();
if ('skip' in redis) {
  if (process.env.L2O_REQUIRE_REDIS) throw new Error(`examples.test: no Redis for the sweep queue's examples: ${redis.skip}`);
  console.warn(`examples.test: skipping the sweep queue's examples: ${redis.skip}`);
}
let sweepId = '';
afterAll(async () => {
  if ('stop' in redis) await redis.stop();
  rmSync(work, { recursive: true, force: true });
});

function ok(args: string[]): void {
  const r = runCli(args, { cwd: work, env });
  expect(r.code, `l2o ${args.join(' ')}\n${r.stderr}`).toBe(0);
}

beforeAll(() => {
  // What examples refer to, made as a user would have made it (at smoke scale).
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(work, 'node_modules'));
  cpSync(path.join(REPO_ROOT, 'experiments'), path.join(work, 'experiments'), { recursive: true });
  // The committed campaign states, as in a clone (`campaign status … --state campaigns/paper`
  // times only the figures not done yet).
  cpSync(path.join(REPO_ROOT, 'campaigns'), path.join(work, 'campaigns'), { recursive: true });
  ok(['train', '--model', 'gru-mha', '--problem', 'lasso', '--scale', 'smoke', '--out', 'gru-mha.json']);
  // A resumable checkpoint, as an interrupted `l2o train --model gru … --out gru.json` leaves.
  ok(['train', '--model', 'gru', '--problem', 'lasso', '--scale', 'smoke', '--out', 'gru.json']);
  writeResumeOf(path.join(work, 'gru.json'));
  ok(['experiment', 'run', 'experiments/paper/fig1.yaml', '--scale', 'smoke', '--runs-dir', 'runs']);
  const [fig1] = readdirSync(path.join(work, 'runs'));
  renameSync(path.join(work, 'runs', fig1!), path.join(work, 'runs', '20261128-120000-fig1'));
  cpSync(path.join(work, 'runs', '20261128-120000-fig1'), path.join(work, 'runs', '20261128-130000-fig2'), { recursive: true });
  ok(['runs', 'import', 'runs/20261128-120000-fig1', 'runs/20261128-130000-fig2']);
  ok(['plugin', 'new', 'my-l2o-plugin', '--dir', 'my-l2o-plugin']);
  // docs/plugins.md's commands run in a folder beside the example plugins, as their author's would.
  for (const example of ['l2o-plugin-mingru', 'l2o-plugin-elastic-net'])
    cpSync(path.join(REPO_ROOT, 'examples', example), path.join(work, example), { recursive: true });
  writeFileSync(
    path.join(work, 'my-comparison.yaml'),
    'name: my-comparison\nproblem: { id: lasso }\ntest: { dataset: synthetic }\noptimizers:\n  - { id: fista }\n  - { id: min-gru }\n',
  );
  if ('url' in redis) {
    // A finished sweep on the queue, run by a worker as a user would.
    const submitted = runCli(['sweep', 'experiments/paper/fig1.yaml', '--scale', 'smoke', '--seeds', '0', '--queue', redis.url, '--json'], { cwd: work, env });
    expect(submitted.code, submitted.stderr).toBe(0);
    sweepId = (JSON.parse(submitted.stdout) as { id: string }).id;
    const worker = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/cli/bin/run.js'), 'worker', '--queue', redis.url, '--concurrency', '2'], {
      cwd: work,
      env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', ...env },
      stdio: 'ignore',
    });
    try {
      ok(['sweep', 'wait', sweepId, '--queue', redis.url]);
    } finally {
      worker.kill('SIGKILL');
    }
  }
}, 600_000);

/** Splits a command line as a shell would for these examples: quotes, and a few placeholders. */
function words(line: string): string[] {
  const placeholders: Record<string, string> = {
    'runs/<run>': 'runs/20261128-120000-fig1',
    'runs/<run-a>': 'runs/20261128-120000-fig1',
    'runs/<run-b>': 'runs/20261128-130000-fig2',
    '<name>': 'my-plugin',
    '<id>': '20261128-120000-fig1',
    '<sweep-id>': sweepId,
    'redis://127.0.0.1:6379': 'url' in redis ? redis.url : 'redis://127.0.0.1:6379',
    'postgres://l2o@db/l2o': env.L2O_STORE,
  };
  const out = [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  return out
    .map((w) => placeholders[w] ?? w)
    .flatMap((w) => {
      if (!w.includes('*')) return [w];
      const dir = path.dirname(w);
      const re = new RegExp(
        `^${path
          .basename(w)
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      );
      return readdirSync(path.join(work, dir))
        .filter((f) => re.test(f))
        .map((f) => path.join(dir, f));
    });
}

/** The l2o invocations of a shell line: after env assignments, split at pipes and &&, comments dropped. */
function invocations(line: string): string[][] {
  return line
    .replace(/\s#.*$/, '')
    .split(/\||&&/)
    .map((part) => part.trim().replace(/^(\w+=\S+\s+)+/, ''))
    .filter((part) => /^(npx )?l2o\s/.test(part))
    .map((part) => words(part.replace(/^(npx )?l2o\s+/, '')));
}

function commandOf(args: string[]): string {
  if (args[0] === 'sweep') return ['status', 'wait', 'cancel', 'report'].includes(args[1]!) ? `sweep ${args[1]}` : 'sweep';
  return ['experiment', 'datasets', 'plugin', 'campaign'].includes(args[0]!) ? `${args[0]} ${args[1]}` : args[0]!;
}

function runExample(args: string[]): void {
  const withDryRun = DRY_RUN.has(commandOf(args)) ? [...args, '--dry-run'] : args;
  const r = runCli(withDryRun, { cwd: work, env });
  expect(r.code, `l2o ${withDryRun.join(' ')}\n${r.stderr}`).toBe(0);
}

const config = await Config.load(path.join(REPO_ROOT, 'packages/cli'));
const rank = (example: string) => (/ l2o (export|runs import) /.test(` ${example} `) ? 0 : / l2o runs rm /.test(` ${example} `) ? 2 : 1);
const helpExamples = config.commands
  .flatMap((c) => (c.examples ?? []).map((e) => (typeof e === 'string' ? e : e.command)).map((e) => e.replace(/<%= config.bin %>/g, 'l2o')))
  // What `export` writes `solve` reads, what `runs import` stores the other `runs` commands read,
  // and `runs rm` deletes: producers first, deletion last.
  .sort((a, b) => rank(a) - rank(b));
// Every command shown in the documentation, with the page it is on.
const docLines = docPages().flatMap((page) => l2oShellLines(page).map((line) => [page.file, line] as const));

describe('every example in --help runs', () => {
  it('finds the examples', () => expect(helpExamples.length).toBeGreaterThan(20));
  // 300 s: the first `campaign status` times the models of the figures left at the papers' sizes
  // (about 3 min with the data sets here); the examples after it reuse the timings.
  it.each(helpExamples)(
    '%s',
    (example) => {
      if (!fullData && REAL_DATA.test(example)) return;
      if (!('url' in redis) && QUEUE.test(example)) return;
      for (const args of invocations(example)) runExample(args);
    },
    300_000,
  );
});

describe('every l2o line of the README and docs/ runs', () => {
  it('finds the lines', () => expect(docLines.length).toBeGreaterThan(20));
  it('finds lines in the README and in docs/', () => {
    expect(docLines.some(([file]) => file === 'README.md')).toBe(true);
    expect(docLines.some(([file]) => file.startsWith('docs/'))).toBe(true);
  });
  it.each(docLines)('%s: %s', (_file, line) => {
    if (!fullData && REAL_DATA.test(line)) return;
    if (!('url' in redis) && QUEUE.test(line)) return;
    const all = invocations(line);
    expect(all.length, line).toBeGreaterThan(0);
    for (const args of all) runExample(args);
  });
});

describe('the -o examples in flag help are accepted', () => {
  const shown = config.commands.flatMap((c) =>
    Object.values(c.flags)
      .filter((f) => f.name === 'option')
      .flatMap((f) => [...`${f.summary ?? ''} ${f.description ?? ''}`.matchAll(/([a-z][\w-]*)\.([\w.]+)=([^\s,)]+)/g)]),
  );
  it('finds them', () => expect(shown.length).toBeGreaterThan(0));
  it.each(shown.map((m) => m[0].replace(/\.$/, '')))('-o %s', (option) => {
    const id = option.split('.')[0]!;
    const models = runCli(['models', '--json'], { cwd: work, env });
    const isModel = (JSON.parse(models.stdout) as { id: string }[]).some((m) => m.id === id);
    const role = isModel ? ['--model', id] : ['--optimizer', 'fista', ...(id === 'lasso' || id === 'logistic-l1' ? [] : ['--dataset', id])];
    const problem = id === 'logistic-l1' ? 'logistic-l1' : 'lasso';
    runExample(['run', ...role, '--problem', problem, '-o', option]);
  });
});
