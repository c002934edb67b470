import { GAP_THRESHOLDS, type RunSummary } from '@l2o/core';

export const formatGap = (g: number) => (Number.isFinite(g) ? g.toExponential(2) : String(g));
const formatSeconds = (s: number | undefined) => (s === undefined ? '—' : s < 100 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

/** The run's Markdown summary: one row per optimizer. */
export function renderSummaryMarkdown(s: RunSummary): string {
  const safeguarded = s.optimizers.some((o) => o.acceptance !== undefined);
  const head = [
    'optimizer',
    'final gap',
    'final F',
    ...GAP_THRESHOLDS.map((t) => `iters to ${t}`),
    ...(safeguarded ? ['learned steps kept'] : []),
    'parameters',
    'training',
    'evaluation',
  ];
  const rows = s.optimizers.map((o) => [
    o.label,
    typeof o.divergedAt === 'number' ? `diverged at k = ${o.divergedAt}` : formatGap(o.finalGap),
    o.finalF.toPrecision(6),
    ...GAP_THRESHOLDS.map((t) => String(o.iterationsTo[String(t)] ?? 'never')),
    ...(safeguarded ? [o.acceptance === undefined ? '—' : `${(100 * o.acceptance).toFixed(1)}%`] : []),
    o.parameters === undefined ? '—' : o.parameters.toLocaleString('en-US'),
    formatSeconds(o.trainingSeconds),
    formatSeconds(o.evaluationSeconds),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    `# ${s.name}`,
    '',
    `Problem \`${s.problem.id}\`, trained on \`${s.trainDataset.id}\`, tested on \`${s.testDataset.id}\` (${s.testInstances} instances, ${s.iterations} iterations).`,
    `Scale \`${s.scale}\`, seed ${s.seed}, engine \`${s.engine}\`, ${s.createdAt}.`,
    '',
    '![convergence](convergence.png)',
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
    '',
    'Gap: mean over test instances of (F(x_k) − F*)/F*, with F* from the reference solver.',
    ...(safeguarded
      ? [
          'Learned steps kept: of a safeguarded optimizer’s steps (all instances and iterations), the share whose learned step was kept; per iteration in metrics/<optimizer>.csv (column accepted).',
        ]
      : []),
    '',
  ].join('\n');
}

export function plotTitle(s: RunSummary): string {
  const train = s.optimizers.some((o) => o.kind === 'learned') ? `trained on ${s.trainDataset.id}, ` : '';
  return `${s.name}: ${s.problem.id}, ${train}tested on ${s.testDataset.id} (${s.testInstances} instances)`;
}
