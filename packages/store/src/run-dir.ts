import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { L2oError, readJsonFile, type EvaluationCurve, type RunSummary } from '@l2o/core';
import type { RunRecord } from './run-store.js';

/**
 * Reads a run directory (as `l2o run` and `l2o experiment run` write it) into a record for the
 * store. Its id is the directory's name, which is unique per run: importing it again is a no-op.
 */
export function readRunDir(dir: string, versions: Record<string, string> = {}): RunRecord {
  const summaryFile = path.join(dir, 'summary.json');
  if (!existsSync(summaryFile))
    throw new L2oError(`${dir} is not a run directory (no summary.json).`, 'Give a folder written by `l2o run` or `l2o experiment run`.');
  const summary = readJsonFile<RunSummary>(summaryFile);
  const spec = existsSync(path.join(dir, 'config.json')) ? readJsonFile<unknown>(path.join(dir, 'config.json')) : {};
  const curves = summary.optimizers.map((o) => {
    const file = path.join(dir, 'metrics', `${o.label}.json`);
    if (!existsSync(file)) throw new L2oError(`${dir} lacks metrics/${o.label}.json.`);
    // JSON has no NaN: a diverged curve was written with nulls.
    const c = readJsonFile<EvaluationCurve>(file);
    const num = (xs: (number | null)[]) => xs.map((v) => (v === null ? Number.NaN : v));
    return { ...c, optimizer: o.label, meanF: num(c.meanF), meanGap: num(c.meanGap), divergedAt: c.divergedAt ?? null };
  });
  const checkpoints: Record<string, string> = {};
  for (const o of summary.optimizers) {
    const file = path.join(dir, 'checkpoints', `${o.label}.json`);
    if (existsSync(file)) checkpoints[o.label] = readFileSync(file, 'utf8');
  }
  // Everything else people read (plots, summaries, training logs) is kept as it is.
  const artifacts: Record<string, Uint8Array> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = path.join(sub, name);
      if (statSync(path.join(dir, rel)).isDirectory()) {
        if (rel !== 'metrics' && rel !== 'checkpoints') walk(rel);
      } else if (!['summary.json', 'config.json'].includes(rel)) {
        artifacts[rel.split(path.sep).join('/')] = readFileSync(path.join(dir, rel));
      }
    }
  };
  walk('');
  // The commit of the code that made the run, as the run recorded it (not the importer's).
  return {
    id: path.basename(path.resolve(dir)),
    summary,
    spec,
    curves,
    checkpoints,
    artifacts,
    versions,
    ...(summary.gitCommit ? { gitCommit: summary.gitCommit } : {}),
  };
}
