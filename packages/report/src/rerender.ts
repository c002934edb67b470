import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { L2oError, readJsonFile, refreshRunManifest, writeFileAtomic, type EvaluationCurve, type RunSummary } from '@l2o/core';
import { formatGap } from './summary.js';
import { renderRun } from './renderer.js';

export interface RunRecord {
  dir: string;
  summary: RunSummary;
  curves: EvaluationCurve[];
}

/** Reads a run directory's summary and per-optimizer curves. */
export function readRun(dir: string): RunRecord {
  const summaryFile = path.join(dir, 'summary.json');
  if (!existsSync(summaryFile))
    throw new L2oError(`${dir} is not a run directory (no summary.json).`, 'Give a folder written by `l2o run` or `l2o experiment run`.');
  // JSON has no NaN or ±Infinity: a diverged optimizer's numbers were written as null; they come
  // back as NaN, as the run store gives them.
  const num = (v: number | null) => (v === null ? Number.NaN : v);
  const read = readJsonFile<RunSummary>(summaryFile);
  const summary: RunSummary = { ...read, optimizers: read.optimizers.map((o) => ({ ...o, finalGap: num(o.finalGap), finalF: num(o.finalF) })) };
  const curves = summary.optimizers.map((o) => {
    const file = path.join(dir, 'metrics', `${o.label}.json`);
    if (!existsSync(file)) throw new L2oError(`${dir} lacks metrics/${o.label}.json.`);
    const c = readJsonFile<EvaluationCurve>(file);
    return { ...c, meanF: c.meanF.map(num), meanGap: c.meanGap.map(num), finalGap: num(c.finalGap) };
  });
  return { dir, summary, curves };
}

/**
 * A run's data as re-rendering and comparing need it, however it was loaded: from a run directory
 * (`readRun`) or from the run store. `id` names the run in a comparison (a run directory's name,
 * which is also its id in the store).
 */
export interface LoadedRun {
  id: string;
  summary: RunSummary;
  curves: readonly EvaluationCurve[];
}

/** A run directory as a LoadedRun (its id is the directory's name). */
export function loadRunDir(dir: string): LoadedRun {
  const { summary, curves } = readRun(dir);
  return { id: path.basename(path.resolve(dir)), summary, curves };
}

/**
 * Renders a run's plot (SVG, PNG) and Markdown summary into `outDir` (created if need be); returns
 * the file names. In a run directory, its checksum manifest gets the new files' checksums.
 */
export async function writeRunReport(run: Pick<LoadedRun, 'summary' | 'curves'>, outDir: string): Promise<string[]> {
  const files = await renderRun(run.summary, run.curves);
  for (const [name, content] of Object.entries(files)) writeFileAtomic(path.join(outDir, name), content);
  refreshRunManifest(outDir, Object.keys(files));
  return Object.keys(files);
}

/** Re-renders a run's plot (SVG, PNG) and Markdown summary from its stored metrics, in its directory. */
export async function rerenderRun(dir: string): Promise<string[]> {
  return writeRunReport(readRun(dir), dir);
}

/** The comparison of runs: a Markdown table and its rows (one per optimizer; a column per run id, its final gap or null). */
export interface RunComparison {
  markdown: string;
  rows: Record<string, unknown>[];
}

/**
 * A Markdown table setting loaded runs side by side: final gap per optimizer per run. A gap that
 * is not a finite number (a diverged optimizer: null in a run directory's JSON, NaN from the
 * store) and an optimizer a run lacks are both null, shown as —.
 */
export function compareLoadedRuns(runs: readonly Pick<LoadedRun, 'id' | 'summary'>[]): RunComparison {
  const labels = [...new Set(runs.flatMap((r) => r.summary.optimizers.map((o) => o.label)))];
  const head = ['optimizer', ...runs.map((r) => `${r.summary.name} (${r.summary.testDataset.id}, ${r.summary.scale})`)];
  const gap = (r: Pick<LoadedRun, 'summary'>, label: string) => {
    const g = r.summary.optimizers.find((o) => o.label === label)?.finalGap;
    return typeof g === 'number' && Number.isFinite(g) ? g : null;
  };
  const rows: Record<string, unknown>[] = labels.map((label) => ({ optimizer: label, ...Object.fromEntries(runs.map((r) => [r.id, gap(r, label)])) }));
  const cell = (v: unknown) => (typeof v === 'number' ? formatGap(v) : '—');
  const lines = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${[row.optimizer as string, ...runs.map((r) => cell(row[r.id]))].join(' | ')} |`),
  ];
  return { markdown: `Final mean relative gap per optimizer.\n\n${lines.join('\n')}\n`, rows };
}

/** `compareLoadedRuns` of run directories. */
export function compareRuns(dirs: readonly string[]): RunComparison {
  return compareLoadedRuns(dirs.map(loadRunDir));
}

export function listRunDirs(root: string): string[] {
  return existsSync(root)
    ? readdirSync(root)
        .map((d) => path.join(root, d))
        .filter((d) => existsSync(path.join(d, 'summary.json')))
    : [];
}
