#!/usr/bin/env node
// The numerics fingerprint of an l2o checkout: smoke-scale runs of the paper's figures 1, 3 and 5
// (every model trained, every baseline, both problems, synthetic data only) on the WASM engine,
// and a SHA-256 of their curves (mean F and mean relative gap per optimizer and iteration, from
// the metrics CSVs by column name, so a new column does not change it). Code that changes
// training or evaluation arithmetic changes it; anything else does not. docs/results/numerics.json
// keeps the fingerprint of the code that made the stored runs the pages show; the results test
// recomputes it and fails when it differs and the pages are not marked stale.
//
// Usage: node scripts/numerics-fingerprint.mjs [--cli <checkout>/packages/cli/bin/run.js] [--figures fig1,fig3] [--json]
//          [--kernels l2o|tfjs] [--write docs/results/numerics.json] [--mark-stale docs/results]
// --cli: another checkout's code (e.g. the frozen tree that made a figure's runs) on this one's specs.
// --kernels: the kernel set (L2O_KERNELS) to run with; default: the one numerics.json records with
//   --mark-stale, else L2O_KERNELS or 'l2o'. The platform's WASM kernels round differently from
//   tfjs's, so each set has its own fingerprint; runs made before they existed are 'tfjs' runs.
// --write: record the fingerprint as that of the code that made the pages' runs (after checking so).
// --mark-stale: put a line at the top of each figure page there whose runs were made by code of
//   another fingerprint (numerics.json's `pages`, else its `fingerprint`) saying its numbers are
//   stale, and take it off the others.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FINGERPRINT_FIGURES = ['fig1', 'fig3', 'fig5'];
const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The fingerprint of the code whose CLI is `cli` (default: this checkout's) on this checkout's
 * specs: one hash per figure, and one of them all.
 */
export function numericsFingerprint(
  cli = path.join(here, '..', 'packages', 'cli', 'bin', 'run.js'),
  figures = FINGERPRINT_FIGURES,
  kernels = process.env.L2O_KERNELS || 'l2o',
) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'l2o-fingerprint-'));
  try {
    const perFigure = {};
    for (const figure of figures) {
      const runsDir = path.join(work, figure);
      execFileSync(
        process.execPath,
        [
          cli,
          'experiment',
          'run',
          path.join(here, '..', 'experiments', 'paper', `${figure}.yaml`),
          '--scale',
          'smoke',
          '--runs-dir',
          runsDir,
          '--store',
          'off',
          '--backend',
          'wasm',
          '-q',
        ],
        {
          // From the checkout the CLI belongs to: plugins are discovered from the working directory,
          // and another checkout's models must not be this one's.
          cwd: path.resolve(path.dirname(cli), '..', '..', '..'),
          env: { ...process.env, L2O_CACHE_DIR: path.join(work, 'cache'), L2O_STORE: 'off', L2O_KERNELS: kernels },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const hash = createHash('sha256');
      const [run] = readdirSync(runsDir);
      const metrics = path.join(runsDir, run, 'metrics');
      for (const file of readdirSync(metrics)
        .filter((f) => f.endsWith('.csv'))
        .sort()) {
        const [header, ...rows] = readFileSync(path.join(metrics, file), 'utf8').trim().split('\n');
        const columns = header.split(',');
        const f = columns.indexOf('mean_f');
        const gap = columns.indexOf('mean_rel_gap');
        hash.update(`${file}\n`);
        for (const row of rows) {
          const cells = row.split(',');
          hash.update(`${Number(cells[f])},${Number(cells[gap])}\n`);
        }
      }
      perFigure[figure] = hash.digest('hex').slice(0, 16);
    }
    const all = createHash('sha256').update(JSON.stringify(perFigure)).digest('hex').slice(0, 16);
    return { fingerprint: all, figures: perFigure, engine: 'wasm', kernels, scale: 'smoke' };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The banner a stale page starts with. */
export const STALE_MARK = '> **Stale:**';

/** The fingerprint of the code that made each page's runs: numerics.json's `pages`, else its `fingerprint`. */
export function recordedFor(recorded, page) {
  return recorded.pages?.[page.replace(/\.md$/, '')] ?? recorded.fingerprint;
}

/**
 * The figure pages of a results folder, figN.md, and those of its scales' folders (`l2o results
 * --scale paper,cpu` writes <scale>/figN.md), as paths relative to it: 'fig1.md', 'cpu/fig1.md'.
 */
export function figurePages(dir) {
  const isPage = (f) => /^fig\d+\.md$/.test(f);
  const top = readdirSync(dir, { withFileTypes: true });
  return [
    ...top.filter((e) => e.isFile() && isPage(e.name)).map((e) => e.name),
    ...top
      .filter((e) => e.isDirectory() && e.name !== 'data')
      .flatMap((e) =>
        readdirSync(path.join(dir, e.name))
          .filter(isPage)
          .map((f) => `${e.name}/${f}`),
      ),
  ];
}

/**
 * Puts (or replaces) the stale line at the top of every figure page in `dir` (figurePages) whose
 * runs were made by code of another fingerprint than `now`, and removes it from the others;
 * returns the pages marked. `recorded` is numerics.json's content (or a fingerprint: the same for
 * every page), its `pages` keyed by the page's path without .md ('fig1', 'cpu/fig1').
 */
export function markStale(dir, recorded, now) {
  const record = typeof recorded === 'string' ? { fingerprint: recorded } : recorded;
  const pages = figurePages(dir);
  const marked = [];
  for (const page of pages) {
    const file = path.join(dir, page);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const unmarked = lines[0]?.startsWith(STALE_MARK) ? lines.slice(lines[1] === '' ? 2 : 1) : lines;
    const made = recordedFor(record, page);
    if (made === now) {
      writeFileSync(file, unmarked.join('\n'));
      continue;
    }
    const line = `${STALE_MARK} the training or evaluation arithmetic changed after these runs (numerics fingerprint ${made}, now ${now}: \`node scripts/numerics-fingerprint.mjs\`); run the figure again and regenerate this page with \`l2o results\`.`;
    writeFileSync(file, [line, '', ...unmarked].join('\n'));
    marked.push(page);
  }
  return marked;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const cli = value('--cli');
  const figures = value('--figures')?.split(',');
  const stale = value('--mark-stale');
  const recorded = stale ? JSON.parse(readFileSync(path.join(stale, 'numerics.json'), 'utf8')) : undefined;
  const result = numericsFingerprint(cli ? path.resolve(cli) : undefined, figures, value('--kernels') ?? (recorded ? (recorded.kernels ?? 'tfjs') : undefined));
  const write = value('--write');
  if (write) {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8' }).trim();
    writeFileSync(write, `${JSON.stringify({ ...result, checkedAt: commit }, null, 2)}\n`);
  }
  if (recorded) process.stderr.write(`marked stale: ${markStale(stale, recorded, result.fingerprint).join(', ') || 'none'}\n`);
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(result)}\n` : `${result.fingerprint}\n`);
}
