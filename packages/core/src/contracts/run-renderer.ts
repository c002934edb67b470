import type { EvaluationCurve } from '../evaluate/evaluator.js';
import type { RunSummary } from '../experiment/summary.js';
import type { RunFiles } from '../store/run-store.js';

/**
 * Renders a finished run for people (plots, Markdown). runComparison resolves it from the
 * platform's container under `TOKENS.RunRenderer` when one is registered and adds the files it
 * returns (paths relative to the run directory) to the run; without one, a run directory holds
 * only data: config.json, summary.json, metrics/, checkpoints/. @l2o/report implements it.
 */
export interface RunRenderer {
  render(summary: RunSummary, curves: readonly EvaluationCurve[]): Promise<RunFiles>;
}
