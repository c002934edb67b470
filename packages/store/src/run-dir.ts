import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  checkRunDir,
  curveMetrics,
  GAP_THRESHOLDS,
  instanceMetrics,
  L2oError,
  MAX_SEED,
  readJsonFile,
  RUN_MANIFEST,
  type EvaluationCurve,
  type RunSummary,
} from '@l2o/core';
import type { RunRecord } from './run-store.js';

export interface ReadRunDirOptions {
  /**
   * Store a run whose files do not match its checksum manifest (each difference is warned of)
   * instead of refusing it; its summary's metrics come from its curves either way.
   */
  rederive?: boolean;
  /** One line per warning (a run without a manifest, or differences taken with `rederive`). */
  warn?: (line: string) => void;
}

/**
 * Reads a run directory (as `l2o run` and `l2o experiment run` write it) into a record for the
 * store. Its id is the directory's name, which is unique per run: importing it again is a no-op.
 *
 * Its files are checked against the run's checksum manifest first: a run edited since it was
 * written is refused unless `rederive`. A run written before manifests is read unverified (with
 * a warning). In every case the summary's per-optimizer metrics (final gap and F, iterations to
 * each gap, divergence, acceptance) are computed from the curves read, so what `l2o runs list`
 * shows always agrees with what `l2o runs show` does.
 */
export function readRunDir(dir: string, versions: Record<string, string> = {}, options: ReadRunDirOptions = {}): RunRecord {
  const summaryFile = path.join(dir, 'summary.json');
  if (!existsSync(summaryFile))
    throw new L2oError(`${dir} is not a run directory (no summary.json).`, 'Give a folder written by `l2o run` or `l2o experiment run`.');
  const warn = options.warn ?? (() => {});
  const check = checkRunDir(dir);
  if (!check.verified) {
    warn(`${dir} has no ${RUN_MANIFEST} (written before runs had one): importing it unverified, with its summary's metrics taken from its curves.`);
  } else if (check.problems.length > 0) {
    const more = check.problems.length > 1 ? ` (and ${check.problems.length - 1} more)` : '';
    if (!options.rederive) {
      throw new L2oError(
        `${dir}: ${check.problems[0]}${more}: the run was changed after it was written.`,
        'Restore the run as it was written, or import it with --rederive to store it as it is now, its summary re-derived from its metrics files.',
      );
    }
    warn(`${dir}: ${check.problems.join('; ')}: storing it as it is now (--rederive), its summary's metrics re-derived from its metrics files.`);
  }
  const read = readJsonFile<RunSummary>(summaryFile);
  // Runs written before seeds were checked may hold one the store's integer column cannot.
  if (!Number.isSafeInteger(read.seed) || read.seed < 0 || read.seed > MAX_SEED) {
    throw new L2oError(
      `${dir} has seed ${read.seed}, which the store cannot keep (its seeds are integers from 0 to ${MAX_SEED}).`,
      'Run it again with a seed in that range (the run directory is left as it is).',
    );
  }
  const spec = existsSync(path.join(dir, 'config.json')) ? readJsonFile<unknown>(path.join(dir, 'config.json')) : {};
  const derived = read.optimizers.map((o) => {
    const file = path.join(dir, 'metrics', `${o.label}.json`);
    if (!existsSync(file)) throw new L2oError(`${dir} lacks metrics/${o.label}.json.`);
    // JSON has no NaN: a diverged curve was written with nulls.
    const c = readJsonFile<EvaluationCurve>(file);
    const num = (xs: (number | null)[]) => xs.map((v) => (v === null ? Number.NaN : v));
    const curve = { ...c, optimizer: o.label, meanF: num(c.meanF), meanGap: num(c.meanGap) };
    // The thresholds the run was summarized with (its iterationsTo's keys), so a run exports back as it was.
    const given = Object.keys(o.iterationsTo ?? {}).map(Number);
    const { finalF, ...metrics } = curveMetrics(curve, given.length > 0 ? given : GAP_THRESHOLDS);
    const { acceptance: _, ...rest } = o;
    const acceptance = curve.acceptance?.length ? { acceptance: curve.acceptance.reduce((a, b) => a + b, 0) / curve.acceptance.length } : {};
    return { curve: { ...curve, ...metrics }, optimizer: { ...rest, ...metrics, ...instanceMetrics(curve), finalF, ...acceptance } };
  });
  const curves = derived.map((d) => d.curve);
  const summary: RunSummary = { ...read, optimizers: derived.map((d) => d.optimizer) };
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
      } else if (!['summary.json', 'config.json', RUN_MANIFEST].includes(rel)) {
        // (The manifest is not kept: `l2o runs export` writes one for the files it writes.)
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
