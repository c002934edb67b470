import { createRequire } from 'node:module';
import type { TopLevelSpec } from 'vega-lite';
import type { Resvg as ResvgRenderer } from '@resvg/resvg-js';
import type { EvaluationCurve } from '@l2o/core';

// vega, vega-lite and resvg take about 0.4 s to load: they are loaded by the first plot, so that
// the commands that draw nothing (most of them, and every --help) start without them.
const require = createRequire(import.meta.url);
let Resvg: typeof ResvgRenderer | undefined;

/** Gaps at or below this are drawn at it: a log axis cannot show 0 or negative values. */
export const GAP_FLOOR = 1e-12;

/** The subtitle's note on the floor. */
export const GAP_FLOOR_NOTE = `gaps ≤ ${GAP_FLOOR} drawn at ${GAP_FLOOR}`;

/** What every convergence plot shares: its size and background, the iteration axis (x) and the gap's log axis (y, without its field). */
export const CONVERGENCE_FRAME = {
  size: { width: 560, height: 360, background: 'white' },
  x: { field: 'iteration', type: 'quantitative', title: 'iteration k' },
  y: { type: 'quantitative', scale: { type: 'log' }, axis: { format: '.0e' }, title: 'mean relative gap (F(x_k) − F*)/F*' },
} as const;

/** The vega-lite spec of a convergence plot: mean relative gap (log) against iteration, a line per optimizer. */
export function convergenceSpec(curves: readonly EvaluationCurve[], title: string): TopLevelSpec {
  const values = curves.flatMap((c) =>
    c.meanGap.map((gap, k) => ({ optimizer: c.optimizer, iteration: k, gap: Number.isFinite(gap) ? Math.max(gap, GAP_FLOOR) : null })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: GAP_FLOOR_NOTE },
    ...CONVERGENCE_FRAME.size,
    data: { values },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: CONVERGENCE_FRAME.x,
      y: { field: 'gap', ...CONVERGENCE_FRAME.y },
      color: { field: 'optimizer', type: 'nominal', title: 'optimizer', sort: curves.map((c) => c.optimizer), ...colourScheme(curves.length) },
    },
  };
}

/** Vega's default scheme has 10 colours: a plot of more optimizers (up to 13 in the logistic figures) takes one of 20, so that none share a colour. */
export const colourScheme = (optimizers: number) => (optimizers > 10 ? { scale: { scheme: 'tableau20' } } : {});

/** Renders a vega-lite spec to SVG (vega's renderer-free SVG output, no canvas needed). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders the convergence plot to SVG. */
export async function convergenceSvg(curves: readonly EvaluationCurve[], title: string): Promise<string> {
  return renderSvg(convergenceSpec(curves, title));
}

/** Rasterises an SVG to PNG at twice its size. */
export function svgToPng(svg: string): Uint8Array {
  Resvg ??= (require('@resvg/resvg-js') as typeof import('@resvg/resvg-js')).Resvg;
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}
