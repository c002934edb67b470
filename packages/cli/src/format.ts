import { formatGap, type EvaluationCurve } from '@l2o/core';

/** Iterations shown in the terminal table: a few on a roughly log scale, and the last. */
export function shownIterations(K: number): number[] {
  const marks = [0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].filter((k) => k < K);
  return [...marks, K];
}

/** A plain-text table of mean F and mean relative gap per optimizer at a few iterations. */
export function curvesTable(curves: readonly EvaluationCurve[]): string {
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
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)].join('\n');
}
