import { GAP_QUANTILES, instanceMetrics, type ComparisonPlan, type EvaluationCurve, type PretrainedProvenance } from '@l2o/core';
import { divergedText, formatGap } from '@l2o/report';

/** Iterations shown in the terminal table: a few on a roughly log scale, and the last. */
export function shownIterations(K: number): number[] {
  const marks = [0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter((k) => k < K);
  return [...marks, K];
}

type ShownCurve = Pick<EvaluationCurve, 'optimizer' | 'meanF' | 'meanGap' | 'divergedAt'> &
  Partial<Pick<EvaluationCurve, 'gapInstances' | 'gapQuantiles' | 'perInstance'>>;

/**
 * A plain-text table per optimizer at a few iterations: mean F, mean relative gap and, with
 * per-instance results, the median gap and how many instances diverged (a few of them make the
 * mean blow up while most instances converge).
 */
export function curvesTable(curves: readonly ShownCurve[]): string {
  const K = curves[0]!.meanF.length - 1;
  const ks = shownIterations(K);
  const head = ['optimizer', ...ks.map((k) => `k=${k}`)];
  const rows: string[][] = [];
  const median = GAP_QUANTILES.indexOf(0.5);
  for (const c of curves) {
    const counted = instanceMetrics({ ...c, gapInstances: c.gapInstances ?? 0 });
    const diverged = counted.divergedInstances ? divergedText(counted) : undefined;
    const name = diverged
      ? `${c.optimizer} (diverged on ${diverged})`
      : typeof c.divergedAt === 'number'
        ? `${c.optimizer} (diverged at k=${c.divergedAt})`
        : c.optimizer;
    rows.push([name, ...ks.map((k) => `F ${c.meanF[k]!.toPrecision(5)}`)]);
    rows.push(['', ...ks.map((k) => `gap ${formatGap(c.meanGap[k]!)}`)]);
    // A median over one instance is its gap: shown only for sets of several.
    if (c.gapQuantiles?.length && (c.gapInstances ?? 0) > 1) {
      rows.push(['', ...ks.map((k) => `median ${formatGap(c.gapQuantiles![k]![median] ?? Number.POSITIVE_INFINITY)}`)]);
    }
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

/**
 * Who trained pretrained weights: their commit, or, when processes of several commits did (a
 * training resumed by another checkout), each commit with the steps it made, consecutive sessions
 * of one commit merged.
 */
export function trainedByText(t: Pick<PretrainedProvenance, 'commit' | 'sessions'>): string {
  const spans: { commit: string; fromStep: number; toStep: number }[] = [];
  for (const s of t.sessions ?? []) {
    const commit = s.commit?.slice(0, 7) ?? 'unknown commit';
    const last = spans.at(-1);
    if (last?.commit === commit) last.toStep = s.toStep;
    else spans.push({ commit, fromStep: s.fromStep, toStep: s.toStep });
  }
  if (spans.length < 2) return `commit ${t.commit.slice(0, 7)}`;
  return `commits ${spans.map((s) => `${s.commit} (steps ${s.fromStep}–${s.toStep})`).join(', ')}`;
}
