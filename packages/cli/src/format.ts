import type { ComparisonPlan, EvaluationCurve } from '@l2o/core';
import { formatGap } from '@l2o/report';

/** Iterations shown in the terminal table: a few on a roughly log scale, and the last. */
export function shownIterations(K: number): number[] {
  const marks = [0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter((k) => k < K);
  return [...marks, K];
}

/** A plain-text table of mean F and mean relative gap per optimizer at a few iterations. */
export function curvesTable(curves: readonly Pick<EvaluationCurve, 'optimizer' | 'meanF' | 'meanGap' | 'divergedAt'>[]): string {
  const K = curves[0]!.meanF.length - 1;
  const ks = shownIterations(K);
  const head = ['optimizer', ...ks.map((k) => `k=${k}`)];
  const rows: string[][] = [];
  for (const c of curves) {
    const name = c.divergedAt === null || c.divergedAt === undefined ? c.optimizer : `${c.optimizer} (diverged at k=${c.divergedAt})`;
    rows.push([name, ...ks.map((k) => `F ${c.meanF[k]!.toPrecision(5)}`)]);
    rows.push(['', ...ks.map((k) => `gap ${formatGap(c.meanGap[k]!)}`)]);
  }
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

/** What a comparison would do (`--dry-run`): the test set, each optimizer, where the run goes. */
export function planText(plan: ComparisonPlan): string {
  const weights = {
    checkpoint: 'from the given checkpoint',
    cached: 'reuses the cached checkpoint',
    resume: 'continues an interrupted training',
    train: 'trains',
  };
  const t = plan.training;
  return [
    `dry run of ${plan.name} (scale ${plan.scale}, seed ${plan.seed}): every id, option, input and output checked; nothing was run.`,
    `test set: ${plan.testSet.count} ${plan.testSet.dataset} instances, ${plan.testSet.iterations} iterations, F* by ${plan.testSet.reference}${plan.testSet.cached ? ' (cached)' : ' (to be solved)'}`,
    ...plan.optimizers.map((o) =>
      o.kind === 'baseline'
        ? `  ${o.label}: hand-designed`
        : `  ${o.label}: learned, ${weights[o.weights!]}${o.weights === 'train' || o.weights === 'resume' ? ` (${t.globalSteps} steps of ${t.batchSize}, K ${t.iterations}, unroll ${t.unroll})` : ''}`,
    ),
    `run directory in: ${plan.runsDir}`,
  ].join('\n');
}
