import path from 'node:path';
import { writeFileAtomic } from '@l2o/core';
import type { TopLevelSpec } from 'vega-lite';
import { CONVERGENCE_FRAME, GAP_FLOOR, GAP_FLOOR_NOTE, renderSvg, svgToPng } from './plot.js';
import { seedTableMarkdown, type SeedAggregate } from './seeds.js';

const floor = (g: number) => Math.max(g, GAP_FLOOR);

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
    encoding: {
      x: CONVERGENCE_FRAME.x,
      color: {
        field: 'optimizer',
        type: 'nominal',
        title: 'optimizer',
        sort: agg.optimizers.map((o) => o.label),
        legend: { symbolType: 'stroke', symbolOpacity: 1 },
      },
    },
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
