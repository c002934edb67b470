import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { L2oError, newestPerSeed, writeFileAtomic } from '@l2o/core';
import type { LoadedRun } from './rerender.js';

/** A training's validation losses (its run's training log), drawn on the figure's validation plot. */
export interface ValidationSeries {
  label: string;
  seed: number;
  points: { step: number; loss: number }[];
}

/**
 * What a figure's page is made of, kept beside it as `data/<name>.json`: each seed's run (its
 * summary with the commit that made it, and the mean curves) and the validation losses of its
 * trainings. Small (no checkpoints, no per-instance numbers), so it is committed with the page:
 * the page can be made again, and runs of more seeds added to it, on a machine whose run store
 * never held these runs.
 */
export interface FigureData {
  name: string;
  runs: LoadedRun[];
  validation: ValidationSeries[];
}

const FORMAT = 1;

export function figureDataPath(outDir: string, name: string): string {
  return path.join(outDir, 'data', `${name}.json`);
}

/** JSON has no NaN or ±Infinity (a diverged curve holds them): kept as these strings. */
const NON_FINITE = new Map<string, number>([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
]);

/**
 * Numbers are kept to 7 significant digits (float32's precision, which the curves were computed
 * in): the file is half the size of full float64 text. Runs from the store go through the same
 * rounding (keptForm) before a page is made, so a page is the same from the store or from the file.
 */
const SIGNIFICANT = 7;

export function figureDataJson(data: FigureData): string {
  const body = JSON.stringify({ format: FORMAT, ...data }, (_key, value: unknown) => {
    if (typeof value !== 'number') return value;
    if (!Number.isFinite(value)) return String(value);
    return Number.isInteger(value) ? value : Number(value.toPrecision(SIGNIFICANT));
  });
  return `${body}\n`;
}

function parseFigureData(text: string): FigureData & { format?: number } {
  return JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' && NON_FINITE.has(value) ? NON_FINITE.get(value) : value)) as FigureData & {
    format?: number;
  };
}

/** The figure's data as its kept file gives it back (numbers rounded as there). */
export function keptForm(data: FigureData): FigureData {
  const { format: _format, ...back } = parseFigureData(figureDataJson(data));
  return back;
}

export function writeFigureData(outDir: string, data: FigureData): string {
  const file = figureDataPath(outDir, data.name);
  writeFileAtomic(file, figureDataJson(data));
  return file;
}

/** The figure's kept data in `outDir`, or null when there is none. */
export function readFigureData(outDir: string, name: string): FigureData | null {
  const file = figureDataPath(outDir, name);
  if (!existsSync(file)) return null;
  let parsed: (FigureData & { format?: number }) | undefined;
  try {
    parsed = parseFigureData(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new L2oError(
      `${file} is not valid JSON (${(e as Error).message}).`,
      'Restore it from git (git checkout -- <file>) or delete it to use the run store alone.',
    );
  }
  if (parsed.format !== FORMAT || parsed.name !== name || !Array.isArray(parsed.runs))
    throw new L2oError(`${file} is not the kept data of ${name} (format ${FORMAT}).`, 'Restore it from git or delete it to use the run store alone.');
  return { name, runs: parsed.runs, validation: parsed.validation ?? [] };
}

/**
 * The newest run of each seed over several sources (the run store first, then the kept data), by
 * the runs' creation times; on a tie the earlier source wins. Each seed's validation series come
 * from the source whose run was taken.
 */
export function mergeFigureData(name: string, sources: readonly (FigureData | null)[]): FigureData | null {
  const candidates = sources.flatMap((source) =>
    source ? source.runs.map((run) => ({ seed: run.summary.seed, createdAt: run.summary.createdAt, run, source })) : [],
  );
  const chosen = newestPerSeed(candidates);
  if (!chosen.length) return null;
  return {
    name,
    runs: chosen.map((c) => c.run),
    validation: chosen.flatMap((c) => c.source.validation.filter((v) => v.seed === c.seed)),
  };
}
