import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { GAP_FLOOR, renderSvg } from './plot.js';
import type { LoadedRun } from './rerender.js';
import { validationSpec } from './results.js';
import { aggregateSeeds } from './seeds.js';
import { pooledQuantile, seedBandsSpec, seedBandsSvg, seedMedianSpec, seedMedianSvg, seedPlotEncoding, writeSeedReport } from './seeds-plot.js';
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

describe('the colours of a figure', () => {
  it('give each of 13 optimizers its own stroke (the default scheme has 10), and keep the default for 10 or fewer', async () => {
    const labels = Array.from({ length: 13 }, (_, i) => `opt${i}`);
    const many = [0, 1, 2].map((i) =>
      run(
        `m${i}`,
        i,
        labels.map((l, j) => [l, 0.5 + 0.03 * j] as [string, number]),
      ),
    );
    const svg = await seedMedianSvg(many, 'fig5');
    const strokes = new Set((svg.match(/aria-roledescription="line mark"[^>]*stroke="(#[0-9a-f]{6})"/g) ?? []).map((m) => m.slice(-8, -1)));
    expect(strokes.size).toBe(13);
    expect(seedPlotEncoding(aggregateSeeds(runs)).color).not.toHaveProperty('scale');
  });
});

describe("a figure's validation plot", () => {
  /** The colour the spec's colour scale gives each label, as vega draws it. */
  async function colours(spec: TopLevelSpec, labels: readonly string[]): Promise<string[]> {
    const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    try {
      await view.runAsync();
      const scale = view.scale('color') as (label: string) => string;
      return labels.map((l) => scale(l));
    } finally {
      view.finalize();
    }
  }

  it("draws each learned optimizer in the colour of the figure's convergence plot, and lists only those it draws", async () => {
    // A figure of baselines first and learned optimizers after them, as figures 3 and 5 order them.
    const labels = ['sgd', 'fista', 'lstm', 'gru-mha'];
    const figure = [0, 1].map((i) =>
      run(
        `v${i}`,
        i,
        labels.map((l, j) => [l, 0.5 + 0.1 * j] as [string, number]),
      ),
    );
    const series = ['gru-mha', 'lstm'].flatMap((label) =>
      [0, 1].map((seed) => ({ label, seed, points: [20, 40].map((step) => ({ step, loss: 3.7 + seed })) })),
    );
    const validation = validationSpec(
      'fig3',
      series,
      aggregateSeeds(figure).optimizers.map((o) => o.label),
    );
    expect(await colours(validation, ['lstm', 'gru-mha'])).toEqual(await colours(seedMedianSpec(figure, 'fig3'), ['lstm', 'gru-mha']));
    const svg = await renderSvg(validation);
    expect(svg).toContain('>lstm<');
    expect(svg).toContain('>gru-mha<');
    expect(svg).not.toContain('>sgd<');
    expect(svg).not.toContain('>fista<');
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

describe('pooledQuantile', () => {
  const seed = [1e-6, 3e-5, 2e-4, 5e-3, 0.1];
  const ps = [0.1, 0.25, 0.5, 0.75, 0.9];

  it('gives one seed’s own quantiles back exactly, and in between interpolates in log gap', () => {
    expect(ps.map((p) => pooledQuantile([seed], p))).toEqual(seed);
    // Halfway in probability between q25 and q50: halfway in log10.
    expect(Math.log10(pooledQuantile([seed], 0.375))).toBeCloseTo((Math.log10(3e-5) + Math.log10(2e-4)) / 2, 12);
  });

  it('gives two identical seeds’ quantiles back exactly, whatever their weights', () => {
    expect(ps.map((p) => pooledQuantile([seed, seed], p))).toEqual(seed);
    expect(ps.map((p) => pooledQuantile([seed, seed], p, [5, 2]))).toEqual(seed);
  });

  it('pools two seeds a decade apart as the mean of their CDFs (worked by hand)', () => {
    const a = [-4, -3, -2, -1, 0].map((e) => 10 ** e);
    const b = a.map((q) => q * 10);
    // F_A(x) + F_B(x) = 2p, F_B(x) = F_A(x − 1) in log10: x = −1.5 for the median; for p = 0.25,
    // 0.35 + 0.4 (x + 3) = 0.5 between −3 and −2.5; for p = 0.75 the mirror image, −0.375.
    expect(Math.log10(pooledQuantile([a, b], 0.5))).toBeCloseTo(-1.5, 12);
    expect(Math.log10(pooledQuantile([a, b], 0.25))).toBeCloseTo(-2.625, 12);
    expect(Math.log10(pooledQuantile([a, b], 0.75))).toBeCloseTo(-0.375, 12);
  });

  it('puts the median of two far-apart seeds at their boundary, and the quartiles each in its seed’s range', () => {
    const a = [1e-8, 1e-8, 1e-8, 1e-8, 1e-8];
    const b = [1e-2, 1e-2, 1e-2, 1e-2, 1e-2];
    const median = pooledQuantile([a, b], 0.5);
    expect(median).toBeGreaterThanOrEqual(1e-8);
    expect(median).toBeLessThanOrEqual(1e-2);
    expect(pooledQuantile([a, b], 0.25)).toBe(1e-8);
    expect(pooledQuantile([a, b], 0.75)).toBe(1e-2);
    // Seed A with three times B's instances holds three quarters of the pool.
    expect(pooledQuantile([a, b], 0.75, [3, 1])).toBe(1e-8);
    expect(pooledQuantile([a, b], 0.9, [3, 1])).toBe(1e-2);
  });

  it('stays finite where the pool reaches p at a finite gap, with diverged (+Infinity or null) quantiles in it', () => {
    const finite = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2];
    const diverged = [1e-3, 1e-2, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
    // The diverged seed's CDF stops at 0.25 below +Infinity: the pool's at (1 + 0.25)/2.
    for (const p of [0.25, 0.5, 0.625]) expect(Number.isFinite(pooledQuantile([finite, diverged], p)), `p ${p}`).toBe(true);
    expect(pooledQuantile([finite, diverged], 0.75)).toBe(Number.POSITIVE_INFINITY);
    const asJson = JSON.parse(JSON.stringify([finite, diverged])) as (number | null)[][];
    expect(asJson[1]![2]).toBeNull();
    expect(pooledQuantile(asJson, 0.5)).toBe(pooledQuantile([finite, diverged], 0.5));
    expect(pooledQuantile([diverged], 0.5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts gaps at or below GAP_FLOOR (even negative ones, from an inexact F*) as GAP_FLOOR', () => {
    expect(pooledQuantile([[-1e-9, 0, 1e-14, 1e-3, 1e-2]], 0.25)).toBe(GAP_FLOOR);
    expect(pooledQuantile([[-1e-9, 0, 1e-14, 1e-3, 1e-2]], 0.75)).toBe(1e-3);
  });
});

describe('seedMedianSpec', () => {
  const K = 40;
  // Seed 0's gap quantiles at k are base·0.5^k; seed 1's a decade higher (see the hand-worked pool above).
  const base = [-4, -3, -2, -1, 0].map((e) => 10 ** e);
  const INF = Number.POSITIVE_INFINITY;
  function medianRun(seed: number): LoadedRun {
    const curves = ['fista', 'ista'].map((label) => {
      const c = geometricCurve(label, 0.5, { iterations: K });
      const gapQuantiles = c.meanGap.map((_, k) =>
        // ista's seed 1 diverges from k = 5 on more than half its instances.
        label === 'ista' && seed === 1 && k >= 5 ? [1e-3, 1e-2, INF, INF, INF] : base.map((q) => q * 10 ** seed * 0.5 ** k),
      );
      return { ...c, gapQuantiles };
    });
    return { id: `m${seed}`, curves, summary: summaryFor('fig1', curves, { seed: seed + 7 }) };
  }
  const medianRuns = [0, 1].map(medianRun);
  const rowOf = (rows: (Row & { seed: number | null })[], optimizer: string, k: number, seed: number | null) =>
    rows.find((r) => r.optimizer === optimizer && r.iteration === k && r.seed === seed)!;
  const rows = rowsOf(seedMedianSpec(medianRuns, 'fig1')) as (Row & { seed: number | null })[];

  it('gives per optimizer and iteration the pooled median and quartiles, and each seed’s median', () => {
    expect(rows).toHaveLength(2 * (K + 1) * 3);
    const fista3 = rowOf(rows, 'fista', 3, null);
    expect(Math.log10(fista3.gap!)).toBeCloseTo(-1.5 + 3 * Math.log10(0.5), 12);
    expect(Math.log10(fista3.lower!)).toBeCloseTo(-2.625 + 3 * Math.log10(0.5), 12);
    expect(Math.log10(fista3.upper!)).toBeCloseTo(-0.375 + 3 * Math.log10(0.5), 12);
    expect(rowOf(rows, 'fista', 3, 7)).toMatchObject({ gap: 1e-2 * 0.5 ** 3, lower: null, upper: null });
    expect(rowOf(rows, 'fista', 3, 8).gap).toBeCloseTo(1e-1 * 0.5 ** 3, 15);
    expect(rowOf(rows, 'ista', 4, 8).gap).toBeCloseTo(1e-1 * 0.5 ** 4, 15);
  });

  it('floors gaps at GAP_FLOOR', () => {
    // At k = 40, 0.5^40 ≈ 9e-13: everything of seed 0 below the median, and its median, is under the floor.
    expect(rowOf(rows, 'fista', K, null).lower).toBe(GAP_FLOOR);
    expect(rowOf(rows, 'fista', K, 7).gap).toBe(GAP_FLOOR);
    for (const r of rows) for (const v of [r.gap, r.lower, r.upper]) if (v !== null) expect(v).toBeGreaterThanOrEqual(GAP_FLOOR);
  });

  it('breaks (null) where a gap is not finite, and keeps the pooled median where the pool has one', () => {
    const ista6 = rowOf(rows, 'ista', 6, null);
    expect(ista6.upper).toBeNull();
    expect(Number.isFinite(ista6.gap)).toBe(true);
    expect(Number.isFinite(ista6.lower)).toBe(true);
    expect(rowOf(rows, 'ista', 6, 8).gap).toBeNull();
    expect(rowOf(rows, 'ista', 4, null).upper).not.toBeNull();
    // Read back from JSON (+Infinity as null) the spec is the same.
    const read = medianRuns.map((r) => JSON.parse(JSON.stringify(r)) as LoadedRun);
    expect(seedMedianSpec(read, 'fig1')).toEqual(seedMedianSpec(medianRuns, 'fig1'));
  });

  it('layers the band, the seeds’ thin lines and the pooled thick line, and says what it draws', () => {
    const spec = seedMedianSpec(medianRuns, 'fig1') as unknown as {
      title: { subtitle: string[] };
      encoding: { color: { sort: string[] } };
      layer: { transform: { filter: string }[]; mark: { type: string; strokeWidth?: number; opacity?: number } }[];
    };
    expect(spec.layer.map((l) => l.mark.type)).toEqual(['area', 'line', 'line']);
    expect(spec.layer[1]!.mark.strokeWidth).toBeLessThan(spec.layer[2]!.mark.strokeWidth!);
    expect(spec.layer[1]!.mark.opacity).toBeLessThan(1);
    expect(spec.encoding.color.sort).toEqual(['fista', 'ista']);
    const subtitle = spec.title.subtitle.join(' ');
    expect(subtitle).toContain(
      "median over instances pooled over 2 seeds (seeds 7, 8) with the interquartile band; thin lines: each seed's median; the tables give means",
    );
    expect(subtitle).toContain(`drawn at ${GAP_FLOOR}`);
  });

  it('weights each seed by its instances with a gap', () => {
    const [a, b] = medianRuns.map((r, s) => ({ ...r, curves: r.curves.map((c) => ({ ...c, gapInstances: s === 0 ? 12 : 4 })) }));
    const weighted = rowsOf(seedMedianSpec([a!, b!], 'fig1')) as (Row & { seed: number | null })[];
    const atK = medianRuns.map((r) => r.curves[0]!.gapQuantiles![3]!);
    expect(rowOf(weighted, 'fista', 3, null).gap).toBe(pooledQuantile(atK, 0.5, [12, 4]));
    expect(rowOf(weighted, 'fista', 3, null).gap).toBeLessThan(rowOf(rows, 'fista', 3, null).gap!);
  });

  it('falls back to the mean and its t-band for runs without gap quantiles', () => {
    expect(seedMedianSpec(runs, 'fig1')).toEqual(seedBandsSpec(aggregateSeeds(runs), 'fig1'));
  });
});

describe('seedMedianSvg', () => {
  it('renders a band per optimizer, a line per seed and per optimizer, and names the optimizers', async () => {
    const curves = (seed: number) =>
      ['fista', 'ista'].map((label) => {
        const c = geometricCurve(label, label === 'fista' ? 0.5 : 0.8, { iterations: 20 });
        return { ...c, gapQuantiles: c.meanGap.map((g) => [0.1, 0.5, 1, 2, 10].map((f) => f * g * (seed + 1))) };
      });
    const svg = await seedMedianSvg(
      [0, 1].map((seed) => ({ id: `s${seed}`, curves: curves(seed), summary: summaryFor('fig1', curves(seed), { seed }) })),
      'fig1',
    );
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('>fista<');
    expect(svg).toContain('>ista<');
    expect(svg.match(/<path[^>]*aria-roledescription="area mark"[^>]*>/g)).toHaveLength(2);
    expect(svg.match(/<path[^>]*aria-roledescription="line mark"[^>]*>/g)).toHaveLength(2 + 4);
  });
});
