import { readFileSync } from 'node:fs';
import path from 'node:path';
import { L2oError, numberOption, resolveOptions } from '@l2o/core';
import type { DatasetRegistration, OptionFields } from '@l2o/core';
import { RAW_SOURCES, type RawSource } from '../raw/sources.js';
import { locateRaw, type VerifiableDataset } from '../raw/raw-files.js';
import { createRawDataset } from '../raw/raw-dataset.js';

export interface UciTable {
  rows: number;
  columns: number;
  /** Row-major features [rows, columns]. */
  features: Float64Array;
  labels: Float32Array;
}

const SPECS = {
  ionosphere: { columns: 34, label: (v: string) => (v === 'g' ? 1 : v === 'b' ? 0 : Number.NaN) },
  spambase: { columns: 57, label: (v: string) => (v === '1' ? 1 : v === '0' ? 0 : Number.NaN) },
} as const;
export type UciId = keyof typeof SPECS;

/** The problems a UCI dataset serves (declared here only). */
export const UCI_SERVES: readonly string[] = ['logistic-l1'];

/** The options of a UCI dataset. */
export const uciOptionFields: OptionFields<{ lambda: number }> = {
  lambda: numberOption(0.1, 'λ of the ℓ1 term', { min: 0, acceptStrings: true }),
};

/** Parses a UCI file: numeric columns then the label, comma separated, no header. */
export function parseUci(id: UciId, text: string): UciTable {
  const spec = SPECS[id];
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const features = new Float64Array(lines.length * spec.columns);
  const labels = new Float32Array(lines.length);
  lines.forEach((line, r) => {
    const cells = line.split(',');
    if (cells.length !== spec.columns + 1) throw new L2oError(`${id}: line ${r + 1} has ${cells.length} fields, expected ${spec.columns + 1}.`);
    for (let c = 0; c < spec.columns; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v)) throw new L2oError(`${id}: line ${r + 1}, column ${c + 1} is not a number ('${cells[c]}').`);
      features[r * spec.columns + c] = v;
    }
    const label = spec.label(cells[spec.columns]!.trim());
    if (Number.isNaN(label)) throw new L2oError(`${id}: line ${r + 1} has the unknown label '${cells[spec.columns]}'.`);
    labels[r] = label;
  });
  return { rows: lines.length, columns: spec.columns, features, labels };
}

/** Each column to mean 0 and (population) standard deviation 1; a constant column is only centred. */
export function standardise(table: UciTable): Float64Array {
  const { rows, columns, features } = table;
  const out = new Float64Array(features.length);
  for (let c = 0; c < columns; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += features[r * columns + c]!;
    mean /= rows;
    let variance = 0;
    for (let r = 0; r < rows; r++) variance += (features[r * columns + c]! - mean) ** 2;
    const std = Math.sqrt(variance / rows);
    const scale = std > 0 ? 1 / std : 1;
    for (let r = 0; r < rows; r++) out[r * columns + c] = (features[r * columns + c]! - mean) * scale;
  }
  return out;
}

/**
 * A UCI dataset as one logistic-l1 instance: A = standardised features (m rows), b = labels.
 * `source` defaults to the official one (tests pass one with other checksums).
 */
export function createUciDataset(id: UciId, source: RawSource = RAW_SOURCES[id]!): VerifiableDataset {
  const about = { id, serves: UCI_SERVES, description: `UCI ${id}: one logistic-l1 instance (standardised features, λ = 0.1)` };
  return createRawDataset(source, about, async (request, ctx) => {
    const { lambda } = resolveOptions({ kind: 'dataset', id }, uciOptionFields, request.options);
    const base = await locateRaw(source, ctx);
    const table = parseUci(id, readFileSync(path.join(base, source.root), 'utf8'));
    return {
      problem: 'logistic-l1',
      count: 1,
      m: table.rows,
      n: table.columns,
      lambda,
      sharedA: false,
      A: Float32Array.from(standardise(table)),
      b: table.labels,
      meta: { dataset: id, rows: table.rows, columns: table.columns },
    };
  });
}

const UCI_NAMES: Record<UciId, string> = { ionosphere: 'Ionosphere', spambase: 'Spambase' };

/** The registration of a UCI dataset: serves and options declared once, above. */
export function uciRegistration(id: UciId): DatasetRegistration {
  return {
    id,
    description: `UCI ${UCI_NAMES[id]}, one logistic-l1 instance`,
    serves: UCI_SERVES,
    options: uciOptionFields,
    create: () => createUciDataset(id),
  };
}
