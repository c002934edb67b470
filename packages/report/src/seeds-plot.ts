import path from 'node:path';
import { GAP_QUANTILES, writeFileAtomic } from '@l2o/core';
import type { TopLevelSpec } from 'vega-lite';
import { colourScheme, CONVERGENCE_FRAME, GAP_FLOOR, GAP_FLOOR_NOTE, renderSvg, svgToPng } from './plot.js';
import type { LoadedRun } from './rerender.js';
import { aggregateSeeds, seedTableMarkdown, type SeedAggregate } from './seeds.js';

const floor = (g: number) => Math.max(g, GAP_FLOOR);

/** The x axis and one colour per optimizer (colourScheme), in the figure's order, shared by the seed plots. */
export function seedPlotEncoding(agg: SeedAggregate) {
  return {
    x: CONVERGENCE_FRAME.x,
    color: {
      field: 'optimizer',
      type: 'nominal' as const,
      title: 'optimizer',
      sort: agg.optimizers.map((o) => o.label),
      ...colourScheme(agg.optimizers.length),
      legend: { symbolType: 'stroke', symbolOpacity: 1 },
    },
  };
}

/**
 * The vega-lite spec of a convergence plot over seeds: per optimizer, a line of the mean relative
 * gap over the seeds and a band of its 95% t-interval, floored at GAP_FLOOR. A point whose mean is
 * not a finite number has no gap (null: the line breaks); one without an interval (one seed) has
 * no band (lower and upper null).
 */
export function seedBandsSpec(agg: SeedAggregate, title: string): TopLevelSpec {
  const values = agg.optimizers.flatMap((o) =>
    o.gap.map(({ mean, half }, k) => {
      const band = Number.isFinite(mean) && Number.isFinite(half);
      return {
        optimizer: o.label,
        iteration: k,
        gap: Number.isFinite(mean) ? floor(mean) : null,
        lower: band ? floor(mean - half) : null,
        upper: band ? floor(mean + half) : null,
      };
    }),
  );
  // The axis spans the means (down to a tenth of the smallest): with few seeds the t-interval's
  // lower end often lies below zero, and a band reaching GAP_FLOOR would flatten every curve.
  const means = values.flatMap((v) => (v.gap === null ? [] : [v.gap]));
  const bottom = means.length ? Math.max(GAP_FLOOR, Math.min(...means) / 10) : GAP_FLOOR;
  const top = Math.max(...values.flatMap((v) => [v.gap ?? 0, v.upper ?? 0]), bottom * 10);
  const y = { ...CONVERGENCE_FRAME.y, scale: { ...CONVERGENCE_FRAME.y.scale, domain: [bottom, top] } };
  const n = agg.seeds.length;
  const over =
    n === 1
      ? `mean over 1 seed (seed ${agg.seeds[0]}): no interval with one seed`
      : `mean over ${n} seeds (seeds ${agg.seeds.join(', ')}) with the 95% t-interval (cut at the axis)`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: `${over}; ${GAP_FLOOR_NOTE}` },
    ...CONVERGENCE_FRAME.size,
    data: { values },
    encoding: seedPlotEncoding(agg),
    layer: [
      { mark: { type: 'area', opacity: 0.2, clip: true }, encoding: { y: { field: 'lower', ...y }, y2: { field: 'upper' } } },
      { mark: { type: 'line', strokeWidth: 2, clip: true }, encoding: { y: { field: 'gap', ...y } } },
    ],
  };
}

/** Renders the convergence plot over seeds to SVG. */
export async function seedBandsSvg(agg: SeedAggregate, title: string): Promise<string> {
  return renderSvg(seedBandsSpec(agg, title));
}

/**
 * The p-quantile (0 < p ≤ 1) of a pool of seeds' gaps, known only through each seed's gap
 * quantiles at GAP_QUANTILES (`perSeed[s]`, as `EvaluationCurve.gapQuantiles[k]` holds them).
 * Each seed's CDF is taken piecewise linear in log10(gap) through (q10, 0.1) … (q90, 0.9), with
 * the tails below q10 and above q90 put at q10 and q90 (nothing is known of them); the pool's CDF
 * is the mean of the seeds' CDFs, weighted by `weights` (their instance counts; equal by default).
 * That CDF is piecewise linear between the seeds' quantiles, so it is inverted exactly, segment by
 * segment, rather than by bisection: one seed gives back its own quantiles exactly.
 *
 * Gaps at or below GAP_FLOOR count as GAP_FLOOR (a log has no room for 0 or a negative gap from an
 * inexact F*; the plot draws them there anyway). A non-finite or missing quantile (null: how JSON
 * writes +Infinity) is +Infinity: instances that diverged. The answer is +Infinity when the pool
 * reaches p only through them, NaN when there is no seed.
 */
export function pooledQuantile(perSeed: readonly (readonly (number | null)[])[], p: number, weights?: readonly number[]): number {
  if (!(p > 0 && p <= 1)) throw new RangeError(`pooledQuantile: p in (0, 1], got ${p}`);
  const probs = GAP_QUANTILES;
  // Each seed's knots as [log10 gap, gap]; the gap is kept to answer a knot exactly.
  const seeds = perSeed.map((qs) =>
    probs.map((_, j) => {
      const q = qs[j];
      const gap = typeof q === 'number' && Number.isFinite(q) ? Math.max(q, GAP_FLOOR) : Number.POSITIVE_INFINITY;
      return [Math.log10(gap), gap] as const;
    }),
  );
  const w = weights ?? seeds.map(() => 1);
  const total = w.reduce((a, b) => a + b, 0);
  if (seeds.length === 0 || !(total > 0)) return Number.NaN;

  /** A seed's CDF at log-gap x, or its limit from the left. */
  const seedCdf = (knots: (readonly [number, number])[], x: number, left: boolean): number => {
    let j = -1;
    while (j + 1 < knots.length && (left ? knots[j + 1]![0] < x : knots[j + 1]![0] <= x)) j++;
    if (j < 0) return 0;
    if (j === knots.length - 1) return 1;
    const [a, b] = [knots[j]![0], knots[j + 1]![0]];
    if (x === b) return probs[j + 1]!; // from the left, at the next knot: no rounding on the way
    // Towards a +Infinity knot the line is flat: no finite gap reaches the next probability.
    return b === Number.POSITIVE_INFINITY ? probs[j]! : probs[j]! + ((probs[j + 1]! - probs[j]!) * (x - a)) / (b - a);
  };
  const cdf = (x: number, left: boolean) => seeds.reduce((acc, knots, s) => acc + w[s]! * seedCdf(knots, x, left), 0) / total;

  const knots = [...new Map(seeds.flat().filter(([x]) => Number.isFinite(x))).entries()].sort((a, b) => a[0] - b[0]);
  let previous: number | undefined;
  for (const [x, gap] of knots) {
    const before = cdf(x, true);
    if (before >= p) {
      // Reached on the straight segment from the previous knot (before the first knot the CDF is 0 < p).
      if (before === p) return gap;
      const from = cdf(previous!, false);
      return 10 ** (previous! + ((x - previous!) * (p - from)) / (before - from));
    }
    if (cdf(x, false) >= p) return gap;
    previous = x;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * The vega-lite spec of a convergence plot over the seeds of one figure (`runs`: one run per
 * seed), robust to a seed whose few instances blow up: per optimizer, the median gap over the
 * instances of all seeds pooled (pooledQuantile, weighted by each seed's instance count) as a thick
 * line over its interquartile band, and each seed's own median as a thin line of the same colour.
 * Gaps are floored at GAP_FLOOR; a non-finite one (diverged instances) is null: the line or band
 * breaks. Runs whose curves lack gap quantiles (evaluated before they were kept) get seedBandsSpec.
 */
export function seedMedianSpec(runs: readonly LoadedRun[], title: string): TopLevelSpec {
  // aggregateSeeds checks the runs are one experiment with distinct seeds, and gives its order.
  const agg = aggregateSeeds(runs);
  if (runs.some((r) => r.curves.some((c) => c.gapQuantiles === undefined))) return seedBandsSpec(agg, title);
  const drawn = (g: number | null | undefined) => (typeof g === 'number' && Number.isFinite(g) ? floor(g) : null);
  const manySeeds = runs.length > 1;
  const values = agg.optimizers.flatMap(({ label }) => {
    const curves = runs.map((r) => r.curves.find((c) => c.optimizer === label)!);
    const weights = curves.map((c) => c.gapInstances);
    return curves[0]!.gapQuantiles!.flatMap((_, k) => {
      const atK = curves.map((c) => c.gapQuantiles![k] ?? []);
      const [lower, gap, upper] = [0.25, 0.5, 0.75].map((p) => drawn(pooledQuantile(atK, p, weights)));
      const pooled = { optimizer: label, iteration: k, seed: null as number | null, gap, lower, upper };
      // With one seed its median is the pooled one: no thin line.
      const perSeed = manySeeds ? atK.map((q, s) => ({ optimizer: label, iteration: k, seed: agg.seeds[s]!, gap: drawn(q[2]), lower: null, upper: null })) : [];
      return [pooled, ...perSeed];
    });
  });
  const y = { ...CONVERGENCE_FRAME.y, title: 'relative gap (F(x_k) − F*)/F*' };
  const n = agg.seeds.length;
  // Two lines: on one, the subtitle would set the figure's width.
  const subtitle = manySeeds
    ? [
        `median over instances pooled over ${n} seeds (seeds ${agg.seeds.join(', ')}) with the interquartile band;`,
        `thin lines: each seed's median; the tables give means; ${GAP_FLOOR_NOTE}`,
      ]
    : [`median over instances (1 seed: seed ${agg.seeds[0]}) with the interquartile band;`, `the tables give means; ${GAP_FLOOR_NOTE}`];
  const pooledOnly = [{ filter: 'datum.seed === null' }];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    ...CONVERGENCE_FRAME.size,
    data: { values },
    encoding: seedPlotEncoding(agg),
    layer: [
      { transform: pooledOnly, mark: { type: 'area', opacity: 0.2 }, encoding: { y: { field: 'lower', ...y }, y2: { field: 'upper' } } },
      {
        transform: [{ filter: 'datum.seed !== null' }],
        mark: { type: 'line', strokeWidth: 1, opacity: 0.45 },
        encoding: { y: { field: 'gap', ...y }, detail: { field: 'seed', type: 'nominal' } },
      },
      { transform: pooledOnly, mark: { type: 'line', strokeWidth: 2.5 }, encoding: { y: { field: 'gap', ...y } } },
    ],
  };
}

/** Renders the median plot over seeds to SVG. */
export async function seedMedianSvg(runs: readonly LoadedRun[], title: string): Promise<string> {
  return renderSvg(seedMedianSpec(runs, title));
}

/** The title of the plot over seeds. */
export function seedPlotTitle(agg: SeedAggregate): string {
  return `${agg.name}: ${agg.problem}, tested on ${agg.testDataset} (${agg.scale} scale)`;
}

/**
 * Writes the aggregate's report into `outDir` (created if need be): report.md (a title and the
 * table of seedTableMarkdown) and the convergence plot over seeds, convergence.svg and
 * convergence.png. Returns the paths written.
 */
export async function writeSeedReport(agg: SeedAggregate, outDir: string): Promise<string[]> {
  const svg = await seedBandsSvg(agg, seedPlotTitle(agg));
  const files: Record<string, string | Uint8Array> = {
    'report.md': [
      `# ${agg.name} over ${agg.seeds.length} seed${agg.seeds.length === 1 ? '' : 's'}`,
      '',
      '![convergence](convergence.png)',
      '',
      seedTableMarkdown(agg),
    ].join('\n'),
    'convergence.svg': svg,
    'convergence.png': svgToPng(svg),
  };
  return Object.entries(files).map(([name, content]) => {
    const file = path.join(outDir, name);
    writeFileAtomic(file, content);
    return file;
  });
}
