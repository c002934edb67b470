import { TOKENS, type EvaluationCurve, type Platform, type RunFiles, type RunRenderer, type RunSummary } from '@l2o/core';
import { convergenceSvg, svgToPng } from './plot.js';
import { plotTitle, renderSummaryMarkdown } from './summary.js';

/** A run's rendered files: the convergence plot (SVG, PNG) and the Markdown summary. */
export async function renderRun(summary: RunSummary, curves: readonly EvaluationCurve[]): Promise<RunFiles> {
  const svg = await convergenceSvg(curves, plotTitle(summary));
  return { 'convergence.svg': svg, 'convergence.png': svgToPng(svg), 'summary.md': renderSummaryMarkdown(summary) };
}

/** The RunRenderer that runComparison uses, once registered, to add the plot and summary to a run directory. */
export const reportRenderer: RunRenderer = { render: renderRun };

/** Registers `reportRenderer` in a platform's container: `bootPlatform(settings, { register: registerReport })`. */
export function registerReport(container: Platform['container']): void {
  container.register(TOKENS.RunRenderer, { useValue: reportRenderer });
}
