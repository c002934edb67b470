import { DIVERGENCE_FLOOR, DIVERGENCE_RISE, GAP_THRESHOLDS, type OptimizerSummary, type RunSummary } from '@l2o/core';

export const formatGap = (g: number) => (Number.isFinite(g) ? g.toExponential(2) : String(g));
const formatSeconds = (s: number | undefined) => (s === undefined ? '—' : s < 100 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

/** What "diverged" means on the pages (DIVERGENCE_RISE and DIVERGENCE_FLOOR of @l2o/core). */
export const DIVERGED_MEANING = `the instances whose F was not finite, whose gap ended above its start, or rose more than ${DIVERGENCE_RISE}× above its running best (gaps below ${DIVERGENCE_FLOOR} counted as ${DIVERGENCE_FLOOR}: ripples near F* are not divergence)`;

/** The instances of a mean: "a of b instances diverged", for an optimizer whose summary counted them. */
export function divergedText(o: Pick<OptimizerSummary, 'divergedInstances' | 'gapInstances'>): string | undefined {
  return o.divergedInstances === undefined ? undefined : `${o.divergedInstances} of ${o.gapInstances} instances`;
}

/**
 * Where a pretrained optimizer's weights come from (a run that used them trained nothing): one line
 * per such optimizer.
 */
export function pretrainedLines(s: Pick<RunSummary, 'optimizers'>): string[] {
  return s.optimizers.flatMap((o) => {
    if (!o.pretrained) return [];
    const t = o.pretrained.trainedWith;
    return [
      `${o.label}: pretrained weights '${o.pretrained.name}', trained by ${t.spec} at ${t.scale} scale, ${t.problem}${optionsText(t.problemOptions)} on ${t.dataset}${optionsText(t.datasetOptions)}, seed ${t.seed}: ` +
        `${t.globalSteps} steps of ${t.batchSize}, best validation ${t.bestValidation.toPrecision(5)} at step ${t.bestStep} (commit ${t.commit.slice(0, 7)}, ${t.engine}).`,
    ];
  });
}

const optionsText = (o: Record<string, unknown>) =>
  Object.keys(o).length === 0
    ? ''
    : ` (${Object.entries(o)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ')})`;

/** Some learned optimizer of the run was trained by it (not all pretrained). */
const trainedHere = (s: RunSummary) => s.optimizers.some((o) => o.kind === 'learned' && !o.pretrained);

/** The run's Markdown summary: one row per optimizer. */
export function renderSummaryMarkdown(s: RunSummary): string {
  const safeguarded = s.optimizers.some((o) => o.acceptance !== undefined);
  const perInstance = s.optimizers.some((o) => o.divergedInstances !== undefined);
  const pretrained = pretrainedLines(s);
  const head = [
    'optimizer',
    'final gap',
    ...(perInstance ? ['median final gap', 'diverged'] : []),
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
    ...(perInstance ? [o.medianFinalGap === undefined ? '—' : formatGap(o.medianFinalGap ?? Number.POSITIVE_INFINITY), divergedText(o) ?? '—'] : []),
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
    `Problem \`${s.problem.id}\`, ${trainedHere(s) ? `trained on \`${s.trainDataset.id}\`, ` : ''}tested on \`${s.testDataset.id}\` (${s.testInstances} instances, ${s.iterations} iterations).`,
    `Scale \`${s.scale}\`, seed ${s.seed}, engine \`${s.engine}\`, ${s.createdAt}.`,
    '',
    '![convergence](convergence.png)',
    '',
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
    '',
    'Gap: mean over test instances of (F(x_k) − F*)/F*, with F* from the reference solver.',
    ...(perInstance
      ? [`Median final gap: over the instances with a gap. Diverged: ${DIVERGED_MEANING}; a few of them make the mean, not the median, blow up.`]
      : []),
    ...(safeguarded
      ? [
          'Learned steps kept: of a safeguarded optimizer’s steps (all instances and iterations), the share whose learned step was kept; per iteration in metrics/<optimizer>.csv (column accepted).',
        ]
      : []),
    ...(pretrained.length > 0 ? ['', ...pretrained.map((l) => `- ${l}`)] : []),
    '',
  ].join('\n');
}

export function plotTitle(s: RunSummary): string {
  const train = trainedHere(s) ? `trained on ${s.trainDataset.id}, ` : '';
  return `${s.name}: ${s.problem.id}, ${train}tested on ${s.testDataset.id} (${s.testInstances} instances)`;
}
