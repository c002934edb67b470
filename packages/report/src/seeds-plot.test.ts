import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GAP_FLOOR } from './plot.js';
import type { LoadedRun } from './rerender.js';
import { aggregateSeeds } from './seeds.js';
import { seedBandsSpec, seedBandsSvg, writeSeedReport } from './seeds-plot.js';
import { geometricCurve, summaryFor } from './test-utils/curves.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-seeds-plot-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** t(0.975) with 2 degrees of freedom: the 95% interval over 3 seeds. */
const T_2 = 4.302652729911275;

function run(id: string, seed: number, rates: [string, number][], divergeAt?: number): LoadedRun {
  const curves = rates.map(([label, rate]) => geometricCurve(label, rate, { iterations: 20, divergeAt: label === 'ista' ? divergeAt : undefined }));
  return { id, curves, summary: summaryFor('fig1', curves, { scale: 'cpu', seed }, { trainingSeconds: 10 + seed }) };
}

// The gap of seed i at iteration k is rate_i^k.
const rates = {
  fista: [0.5, 0.6, 0.7],
  ista: [0.9, 0.8, 0.7],
};
const runs = [0, 1, 2].map((i) =>
  run(`r${i}`, i, [
    ['fista', rates.fista[i]!],
    ['ista', rates.ista[i]!],
  ]),
);

interface Row {
  optimizer: string;
  iteration: number;
  gap: number | null;
  lower: number | null;
  upper: number | null;
}
const rowsOf = (spec: unknown) => (spec as { data: { values: Row[] } }).data.values;
const row = (rows: Row[], optimizer: string, k: number) => rows.find((r) => r.optimizer === optimizer && r.iteration === k)!;

/** Mean and 95% half-width of three values, computed here rather than by seeds.ts. */
function interval(values: number[]): { mean: number; half: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return { mean, half: (T_2 * sd) / Math.sqrt(values.length) };
}

describe('seedBandsSpec', () => {
  const agg = aggregateSeeds(runs);

  it('gives each optimizer’s mean and its band, mean ∓ the 95% t half-width', () => {
    const rows = rowsOf(seedBandsSpec(agg, 'fig1'));
    expect(rows).toHaveLength(2 * 21);
    const { mean, half } = interval(rates.ista.map((r) => r ** 2));
    expect(mean - half).toBeGreaterThan(GAP_FLOOR);
    const ista2 = row(rows, 'ista', 2);
    expect(ista2.gap).toBeCloseTo(mean, 12);
    expect(ista2.lower! / (mean - half)).toBeCloseTo(1, 9);
    expect(ista2.upper! / (mean + half)).toBeCloseTo(1, 9);
  });

  it('floors a band reaching below zero at GAP_FLOOR', () => {
    const rows = rowsOf(seedBandsSpec(agg, 'fig1'));
    const { mean, half } = interval(rates.fista.map((r) => r ** 10));
    expect(mean - half).toBeLessThan(0);
    const fista10 = row(rows, 'fista', 10);
    expect(fista10.lower).toBe(GAP_FLOOR);
    expect(fista10.gap! / mean).toBeCloseTo(1, 12);
    expect(fista10.upper! / (mean + half)).toBeCloseTo(1, 9);
    for (const r of rows) for (const v of [r.gap, r.lower, r.upper]) expect(v).toBeGreaterThanOrEqual(GAP_FLOOR);
  });

  it('layers a band (area, translucent) under a line, coloured in the aggregate’s optimizer order, and says over which seeds', () => {
    const spec = seedBandsSpec(agg, 'fig1') as unknown as {
      title: { subtitle: string };
      encoding: { color: { sort: string[] } };
      layer: { mark: { type: string; opacity?: number } }[];
    };
    expect(spec.layer.map((l) => l.mark.type)).toEqual(['area', 'line']);
    expect(spec.layer[0]!.mark.opacity).toBe(0.2);
    expect(spec.encoding.color.sort).toEqual(['fista', 'ista']);
    expect(spec.title.subtitle).toMatch(/mean over 3 seeds \(seeds 0, 1, 2\) with the 95% t-interval/);
    expect(spec.title.subtitle).toContain(`drawn at ${GAP_FLOOR}`);
  });

  it('spans the axis over the means (down to a tenth of the smallest), and cuts the bands there', () => {
    const spec = seedBandsSpec(agg, 'fig1') as unknown as { layer: { mark: { clip?: boolean }; encoding: { y: { scale: { domain: number[] } } } }[] };
    const rows = rowsOf(spec);
    const means = rows.flatMap((r) => (r.gap === null ? [] : [r.gap]));
    const [bottom, top] = spec.layer[1]!.encoding.y.scale.domain;
    expect(bottom).toBeCloseTo(Math.max(GAP_FLOOR, Math.min(...means) / 10), 15);
    expect(top).toBe(Math.max(...rows.flatMap((r) => [r.gap ?? 0, r.upper ?? 0])));
    expect(spec.layer.every((l) => l.mark.clip)).toBe(true);
  });

  it('draws no band with one seed', () => {
    const rows = rowsOf(seedBandsSpec(aggregateSeeds([runs[0]!]), 'fig1'));
    expect(rows).toHaveLength(2 * 21);
    expect(rows.every((r) => r.lower === null && r.upper === null)).toBe(true);
    expect(row(rows, 'fista', 3).gap).toBeCloseTo(0.5 ** 3, 14);
  });

  it('omits the gap and band where a seed diverged (the mean is not a number)', () => {
    const diverged = [0, 1, 2].map((i) =>
      run(
        `d${i}`,
        i,
        [
          ['fista', rates.fista[i]!],
          ['ista', rates.ista[i]!],
        ],
        i === 1 ? 5 : undefined,
      ),
    );
    const rows = rowsOf(seedBandsSpec(aggregateSeeds(diverged), 'fig1'));
    expect(row(rows, 'ista', 5)).toMatchObject({ gap: null, lower: null, upper: null });
    expect(row(rows, 'ista', 4).lower).not.toBeNull();
  });
});

describe('seedBandsSvg', () => {
  it('draws an area for each optimizer', async () => {
    const svg = await seedBandsSvg(aggregateSeeds(runs), 'fig1');
    const areas = svg.match(/<path[^>]*aria-roledescription="area mark"[^>]*>/g) ?? [];
    expect(areas).toHaveLength(2);
    for (const a of areas) expect(a).toMatch(/ d="M/);
    expect(svg.match(/<path[^>]*aria-roledescription="line mark"[^>]*>/g)).toHaveLength(2);
  });
});

describe('writeSeedReport', () => {
  it('writes report.md, convergence.svg and convergence.png into a new folder', async () => {
    const out = path.join(temp, 'new', 'seeds');
    const written = await writeSeedReport(aggregateSeeds(runs), out);
    expect(written).toEqual(['report.md', 'convergence.svg', 'convergence.png'].map((f) => path.join(out, f)));
    for (const f of written) expect(existsSync(f), f).toBe(true);
    expect([...readFileSync(path.join(out, 'convergence.png')).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(readFileSync(path.join(out, 'convergence.svg'), 'utf8')).toMatch(/^<svg/);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# fig1/);
    expect(md).toContain('| optimizer | gap k = 10 | gap k = 20 | iterations to 1e-2 | iterations to 1e-3 | iterations to 1e-4 | training (s) |');
  });
});
