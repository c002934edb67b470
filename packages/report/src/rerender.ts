import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { L2oError, readJsonFile, writeFileAtomic, type EvaluationCurve, type RunSummary } from '@l2o/core';
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
  const summary = readJsonFile<RunSummary>(summaryFile);
  const curves = summary.optimizers.map((o) => {
    const file = path.join(dir, 'metrics', `${o.label}.json`);
    if (!existsSync(file)) throw new L2oError(`${dir} lacks metrics/${o.label}.json.`);
    return readJsonFile<EvaluationCurve>(file);
  });
  return { dir, summary, curves };
}

/** Re-renders a run's plot (SVG, PNG) and Markdown summary from its stored metrics. */
export async function rerenderRun(dir: string): Promise<string[]> {
  const { summary, curves } = readRun(dir);
  const files = await renderRun(summary, curves);
  for (const [name, content] of Object.entries(files)) writeFileAtomic(path.join(dir, name), content);
  return Object.keys(files);
}

/** A Markdown table setting runs side by side: final gap per optimizer per run. */
export function compareRuns(dirs: readonly string[]): { markdown: string; rows: Record<string, unknown>[] } {
  const runs = dirs.map(readRun);
  const labels = [...new Set(runs.flatMap((r) => r.summary.optimizers.map((o) => o.label)))];
  const head = ['optimizer', ...runs.map((r) => `${r.summary.name} (${r.summary.testDataset.id}, ${r.summary.scale})`)];
  const rows: Record<string, unknown>[] = labels.map((label) => ({
    optimizer: label,
    ...Object.fromEntries(runs.map((r) => [path.basename(r.dir), r.summary.optimizers.find((o) => o.label === label)?.finalGap ?? null])),
  }));
  const cell = (v: unknown) => (typeof v === 'number' ? formatGap(v) : '—');
  const lines = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${[row.optimizer as string, ...runs.map((r) => cell(row[path.basename(r.dir)]))].join(' | ')} |`),
  ];
  return { markdown: `Final mean relative gap per optimizer.\n\n${lines.join('\n')}\n`, rows };
}

export function listRunDirs(root: string): string[] {
  return existsSync(root)
    ? readdirSync(root)
        .map((d) => path.join(root, d))
        .filter((d) => existsSync(path.join(d, 'summary.json')))
    : [];
}
