import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { L2oError, newestPerSeed, perInstanceGaps, writeFileAtomic, type EvaluationCurve, type PerInstanceResults } from '@l2o/core';
import type { LoadedRun } from './rerender.js';

/** A training's validation losses (its run's training log), drawn on the figure's validation plot. */
export interface ValidationSeries {
  label: string;
  seed: number;
  points: { step: number; loss: number }[];
  /** Global steps skipped on a non-finite loss (onNonFinite: skip; their updates dropped); absent in data kept before it was read from the logs. */
  skipped?: number[];
}

/**
 * What a figure's page is made of, kept beside it as `data/<name>.json`: each seed's run (its
 * summary with the commit that made it, its mean curves, and its per-instance results) and the
 * validation losses of its trainings. Small (no checkpoints; per-instance numbers packed, see
 * below), so it is committed with the page: the page can be made again, and runs of more seeds
 * added to it, on a machine whose run store never held these runs.
 *
 * Format 2 (format 1, written before curves had per-instance results, is still read: its curves
 * come back without gapQuantiles and perInstance). Numbers are kept to 7 significant digits, except
 * the per-instance results, too many for text (a LASSO test set has 1,024 instances): a curve's
 * gapQuantiles and perInstance.gaps are kept as Int16 "milli-decades", round(1000·log10(gap))
 * (clamped to ±32000; a gap ≤ 0, i.e. at or below rounding, as −32000 = 1e-32; +Infinity, diverged,
 * as 32767; NaN, no gap, as −32768), so a gap comes back as 10^(code/1000), within 0.12% of the
 * original (half a milli-decade), and the special values exactly; perInstance.iterationsTo as Int16
 * with −1 for null (never), or as plain lists when K does not fit in Int16. See `pack`.
 */
export interface FigureData {
  name: string;
  runs: LoadedRun[];
  validation: ValidationSeries[];
}

const FORMAT = 2;
/** The formats readFigureData reads. */
const READS = [1, 2];

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
 * rounding, and the same packing of per-instance results (keptForm), before a page is made, so a
 * page is the same from the store or from the file.
 */
const SIGNIFICANT = 7;

/** Milli-decades: the codes of a gap (see FigureData). */
const NO_GAP = -32768;
const DIVERGED = 32767;
const GAP_CODE_LIMIT = 32000;
/** The largest iteration an Int16 code holds (−1 is "never"); beyond, iterationsTo stays plain. */
const MAX_ITERATION = 32766;

/**
 * A matrix of Int16 codes as kept: `rows` × `columns` values, each row but the first as its
 * difference from the row above (mod 2^16: an instance's gap moves less from one kept iteration to
 * the next than it differs from other instances'), the low bytes of all values then their high
 * bytes, deflated (raw) and in base64. What keeps a figure well under 1 MB: the test's synthetic
 * one (10 optimizers × 3 seeds, 1,024 instances, K = 300) is 0.72 MB so, 1.06 MB with the codes as
 * plain little-endian Int16 in base64.
 */
interface Packed {
  codes: 'milli-decades' | 'iterations';
  rows: number;
  columns: number;
  data: string;
}

function pack(codes: Packed['codes'], rows: readonly (readonly number[])[]): Packed {
  const columns = rows[0]?.length ?? 0;
  const n = rows.length * columns;
  const bytes = Buffer.alloc(2 * n);
  rows.forEach((row, r) =>
    row.forEach((v, c) => {
      const delta = (r === 0 ? v : v - rows[r - 1]![c]!) & 0xffff;
      const at = r * columns + c;
      bytes[at] = delta & 0xff;
      bytes[n + at] = delta >> 8;
    }),
  );
  return { codes, rows: rows.length, columns, data: deflateRawSync(bytes, { level: 9 }).toString('base64') };
}

function unpack(packed: Packed): number[][] {
  const { rows, columns } = packed;
  const n = rows * columns;
  const bytes = inflateRawSync(Buffer.from(packed.data, 'base64'));
  if (!Number.isInteger(n) || n < 0 || bytes.length !== 2 * n) throw new Error(`a packed array holds ${bytes.length / 2} values, not ${rows} × ${columns}`);
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < columns; c++) {
      const at = r * columns + c;
      const delta = bytes[at]! | (bytes[n + at]! << 8);
      // Back to Int16: sign-extend the 16 bits.
      row.push((((r === 0 ? 0 : out[r - 1]![c]!) + delta) << 16) >> 16);
    }
    out.push(row);
  }
  return out;
}

function isPacked(value: unknown): value is Packed {
  return typeof value === 'object' && value !== null && typeof (value as Packed).data === 'string' && typeof (value as Packed).codes === 'string';
}

function gapCode(gap: number): number {
  if (Number.isNaN(gap)) return NO_GAP;
  if (gap === Number.POSITIVE_INFINITY) return DIVERGED;
  if (gap <= 0) return -GAP_CODE_LIMIT;
  return Math.min(GAP_CODE_LIMIT, Math.max(-GAP_CODE_LIMIT, Math.round(1000 * Math.log10(gap))));
}

function gapOfCode(code: number): number {
  if (code === NO_GAP) return Number.NaN;
  if (code === DIVERGED) return Number.POSITIVE_INFINITY;
  // To 12 digits (far finer than a code's 0.12%): whole decades come back as themselves (1e-32, not 9.999999999999999e-33).
  return Number((10 ** (code / 1000)).toPrecision(12));
}

const rectangular = (rows: readonly (readonly unknown[])[]) => rows.every((row) => row.length === rows[0]!.length);

/** A curve as kept: its per-instance results packed (plain when they cannot be). */
function packCurve(curve: EvaluationCurve): Record<string, unknown> {
  const { gapQuantiles, perInstance } = curve;
  const kept: Record<string, unknown> = { ...curve };
  // A quantile is null only where JSON (the store's) wrote +Infinity: it ranks diverged instances.
  if (gapQuantiles && rectangular(gapQuantiles))
    kept.gapQuantiles = pack(
      'milli-decades',
      gapQuantiles.map((row) => row.map((q) => gapCode((q as number | null) ?? Number.POSITIVE_INFINITY))),
    );
  if (perInstance) {
    const { gaps, iterationsTo } = perInstance;
    const thresholds = Object.keys(iterationsTo);
    const lists = thresholds.map((t) => iterationsTo[t]!);
    const fits = lists.every((list) => list.every((k) => k === null || (Number.isInteger(k) && k >= 0 && k <= MAX_ITERATION)));
    kept.perInstance = {
      ...perInstance,
      gaps: rectangular(gaps)
        ? pack(
            'milli-decades',
            perInstanceGaps(perInstance).map((row) => row.map(gapCode)),
          )
        : gaps,
      iterationsTo:
        fits && rectangular(lists)
          ? {
              thresholds,
              ...pack(
                'iterations',
                lists.map((list) => list.map((k) => k ?? -1)),
              ),
            }
          : iterationsTo,
    };
  }
  return kept;
}

function unpackIterations(packed: Packed & { thresholds?: unknown }): PerInstanceResults['iterationsTo'] {
  const rows = unpack(packed);
  const { thresholds } = packed;
  if (!Array.isArray(thresholds) || thresholds.length !== rows.length)
    throw new Error(`packed iterations name ${String(thresholds)}, not ${rows.length} thresholds`);
  return Object.fromEntries(rows.map((row, t) => [String(thresholds[t]), row.map((k) => (k < 0 ? null : k))]));
}

function unpackCurve(kept: Record<string, unknown>): EvaluationCurve {
  const curve = { ...kept } as unknown as EvaluationCurve;
  if (isPacked(kept.gapQuantiles)) curve.gapQuantiles = unpack(kept.gapQuantiles).map((row) => row.map(gapOfCode));
  const perInstance = kept.perInstance as (Omit<PerInstanceResults, 'gaps' | 'iterationsTo'> & { gaps: unknown; iterationsTo: unknown }) | undefined;
  if (perInstance) {
    const { gaps, iterationsTo } = perInstance;
    curve.perInstance = {
      ...perInstance,
      gaps: isPacked(gaps) ? unpack(gaps).map((row) => row.map(gapOfCode)) : (gaps as PerInstanceResults['gaps']),
      iterationsTo: isPacked(iterationsTo) ? unpackIterations(iterationsTo) : (iterationsTo as PerInstanceResults['iterationsTo']),
    };
  }
  return curve;
}

export function figureDataJson(data: FigureData): string {
  return `${keptNumbersJson({ format: FORMAT, ...data, runs: data.runs.map((run) => ({ ...run, curves: run.curves.map(packCurve) })) })}\n`;
}

/** JSON with numbers as kept data keeps them (7 significant digits, non-finite ones as strings). */
function keptNumbersJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'number') return v;
    if (!Number.isFinite(v)) return String(v);
    return Number.isInteger(v) ? v : Number(v.toPrecision(SIGNIFICANT));
  });
}

/**
 * One evaluation's curve, with whatever describes it, in the kept form of a figure's runs (numbers
 * rounded, per-instance results packed): a campaign keeps a finished evaluation so until its run
 * is written. `curveFromKeptJson` reads it back as keptForm would.
 */
export function keptCurveJson<T extends { curve: EvaluationCurve }>(value: T): string {
  return `${keptNumbersJson({ ...value, curve: packCurve(value.curve) })}\n`;
}

export function curveFromKeptJson<T extends { curve: EvaluationCurve }>(text: string): T {
  const parsed = parseJson(text) as unknown as T;
  return { ...parsed, curve: unpackCurve(parsed.curve as unknown as Record<string, unknown>) };
}

type ParsedFigureData = FigureData & { format?: number };

/** The file's JSON, NaN and ±Infinity restored (not in packed data, whose base64 could spell them). */
function parseJson(text: string): ParsedFigureData {
  return JSON.parse(text, (key, value: unknown) =>
    key !== 'data' && typeof value === 'string' && NON_FINITE.has(value) ? NON_FINITE.get(value) : value,
  ) as ParsedFigureData;
}

/** The runs with their per-instance results unpacked (format 1's curves have none). */
function unpackRuns(runs: readonly LoadedRun[]): LoadedRun[] {
  return runs.map((run) => ({ ...run, curves: run.curves.map((c) => unpackCurve(c as unknown as Record<string, unknown>)) }));
}

/**
 * The figure's data as its kept file gives it back: numbers rounded, per-instance gaps quantised
 * to milli-decades (within 0.12%), as there. keptForm(keptForm(d)) equals keptForm(d).
 */
export function keptForm(data: FigureData): FigureData {
  const { format: _format, ...back } = parseJson(figureDataJson(data));
  return { ...back, runs: unpackRuns(back.runs) };
}

export function writeFigureData(outDir: string, data: FigureData): string {
  const file = figureDataPath(outDir, data.name);
  writeFileAtomic(file, figureDataJson(data));
  return file;
}

/** The figure's kept data in `outDir` (format 1 or 2), or null when there is none. */
export function readFigureData(outDir: string, name: string): FigureData | null {
  return readFigureDataFile(figureDataPath(outDir, name), name);
}

/** Kept data of the figure `name` in `file` wherever it is (a campaign keeps its runs so), or null when there is none. */
export function readFigureDataFile(file: string, name: string): FigureData | null {
  if (!existsSync(file)) return null;
  let parsed: ParsedFigureData | undefined;
  try {
    parsed = parseJson(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new L2oError(
      `${file} is not valid JSON (${(e as Error).message}).`,
      'Restore it from git (git checkout -- <file>) or delete it to use the run store alone.',
    );
  }
  if (typeof parsed.format === 'number' && parsed.format > FORMAT)
    throw new L2oError(
      `${file} is kept data of format ${parsed.format}; this l2o reads formats ${READS.join(' and ')}.`,
      'Update l2o, or delete the file to use the run store alone.',
    );
  if (!READS.includes(parsed.format ?? -1) || parsed.name !== name || !Array.isArray(parsed.runs))
    throw new L2oError(
      `${file} is not the kept data of ${name} (format ${READS.join(' or ')}).`,
      'Restore it from git or delete it to use the run store alone.',
    );
  let runs: LoadedRun[];
  try {
    runs = unpackRuns(parsed.runs);
  } catch (e) {
    throw new L2oError(`${file} has damaged per-instance results (${(e as Error).message}).`, 'Restore it from git or delete it to use the run store alone.');
  }
  return { name, runs, validation: parsed.validation ?? [] };
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

/** The validation losses of a run's trainings, from its training/<label>.json logs (a run directory's files or a stored run's artifacts). */
export function validationSeriesOf(seed: number, files: Record<string, Uint8Array | string>): ValidationSeries[] {
  return Object.entries(files).flatMap(([name, content]) => {
    const label = /^training\/(.+)\.json$/.exec(name)?.[1];
    if (!label) return [];
    try {
      const log = JSON.parse(typeof content === 'string' ? content : Buffer.from(content).toString('utf8')) as {
        history?: { step: number }[];
        validation?: { step: number; loss: number | null }[];
      };
      const points = (log.validation ?? []).map((p) => ({ step: p.step, loss: p.loss ?? Number.NaN }));
      const skipped = log.history ? { skipped: skippedSteps(log.history, points) } : {};
      return points.length ? [{ label, seed, points, ...skipped }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The global steps a training log has no loss for, up to its last step with a loss or a
 * validation: the steps skipped on a non-finite loss (a skipped step writes no segment loss).
 */
export function skippedSteps(history: readonly { step: number }[], validation: readonly { step: number }[]): number[] {
  const seen = new Set(history.map((h) => h.step));
  const last = Math.max(0, ...seen, ...validation.map((v) => v.step));
  const skipped: number[] = [];
  for (let step = 1; step <= last; step++) if (!seen.has(step)) skipped.push(step);
  return skipped;
}
