import type { ValidationSeries } from './figure-data.js';
import { divergedPerSeed, type SeedAggregate, type SeedInstances } from './seeds.js';
import { DIVERGED_MEANING, formatGap } from './summary.js';
import { compareAt, comparisonText } from './verdicts.js';

/** The two ablations the stability page compares: the paper's protocol, and the same with a stabiliser. */
export const STABILITY_FIGURES = { without: 'stability-noclip', with: 'stability-clip' } as const;

/** A validation loss this many times the best before it (or not finite) is a spike. */
export const SPIKE_FACTOR = 10;

/** Validation spikes of one training: losses above SPIKE_FACTOR × the best so far, or not finite. */
export function validationSpikes(points: readonly { loss: number }[]): number {
  let best = Number.POSITIVE_INFINITY;
  let spikes = 0;
  for (const { loss } of points) {
    if (!Number.isFinite(loss) || loss > SPIKE_FACTOR * best) spikes++;
    if (Number.isFinite(loss)) best = Math.min(best, loss);
  }
  return spikes;
}

/** A training that stopped on a non-finite loss (the paper protocol's rule), so its seed has no run. */
export interface StoppedTraining {
  label: string;
  seed: number;
  /** Why it stopped, as the trainer said it (names the global step). */
  message: string;
}

/** One arm of the ablation: its runs' aggregate, its validation curves, the trainings that stopped, and its aggregate on the seeds both arms have runs for. */
export interface StabilityArm {
  agg: SeedAggregate;
  validation: readonly ValidationSeries[];
  stopped?: readonly StoppedTraining[];
  /** On the seeds both arms have runs for (default: agg, when the arms' seeds are the same). */
  paired?: SeedAggregate;
}

const stoppedText = (t: StoppedTraining) => {
  const step = /global step (\d+)/.exec(t.message)?.[1];
  return `seed ${t.seed}${step ? ` (step ${step})` : ''}`;
};

interface Row {
  model: string;
  setting: string;
  seeds: number;
  /** Trainings of this model that stopped (their seeds have no run). */
  stopped: StoppedTraining[];
  /** The seeds of `spikes` and `diverged`, in order. */
  seedList: number[];
  /** Spikes per seed. */
  spikes: number[];
  /** Diverged test instances per seed (null: counted under an older rule), with the instances per seed. */
  perSeed: Pick<SeedInstances, 'diverged' | 'instances'>[];
  /** Median over instances pooled over seeds, and mean over seeds of the mean, at each k. */
  gaps: { k: number; median: number; mean: number }[];
}

const AT = [20, 50, 100];

function rows(arm: StabilityArm, setting: string): Row[] {
  const { agg, validation } = arm;
  return agg.optimizers.map((o) => ({
    model: o.label,
    setting,
    seeds: agg.seeds.length,
    stopped: (arm.stopped ?? []).filter((t) => t.label === o.label),
    seedList: agg.seeds,
    spikes: agg.seeds.map((seed) => validationSpikes(validation.find((v) => v.label === o.label && v.seed === seed)?.points ?? [])),
    perSeed: o.perSeed ?? [],
    gaps: AT.filter((k) => k <= agg.iterations).map((k) => {
      const pooled = (o.perSeed ?? []).flatMap((s) => {
        const j = s.at.indexOf(k);
        return j < 0 ? [] : s.gaps[j]!.filter((g) => !Number.isNaN(g));
      });
      pooled.sort((a, b) => a - b);
      const median = pooled.length ? pooled[Math.floor((pooled.length - 1) / 2)]! : Number.NaN;
      return { k, median, mean: o.gap[k]?.mean ?? Number.NaN };
    }),
  }));
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const plural = (n: number, thing: string) => `${n} ${thing}${n === 1 ? '' : 's'}`;

/**
 * The stability page: each model with and without the stabiliser over the same seeds and test
 * instances — validation spikes, diverging test instances, gaps at k = 20, 50, 100 — the paired
 * comparison of the two settings, and the conclusion: whether the stabiliser removes the blow-ups
 * without hurting k = 20.
 */
export function stabilityMarkdown(without: StabilityArm, withIt: StabilityArm, stabiliser: string): string {
  const all = [...rows(without, 'paper protocol'), ...rows(withIt, stabiliser)];
  const table = [
    `| model | training | seeds with a run | trainings stopped (diverged) | validation spikes (per seed) | diverged test instances (per seed) | ${AT.map((k) => `gap k = ${k}: median (mean)`).join(' | ')} |`,
    `| --- | --- | --- | --- | --- | --- | ${AT.map(() => '---').join(' | ')} |`,
    ...all.map(
      (r) =>
        `| ${r.model} | ${r.setting} | ${r.seeds} | ${r.stopped.length ? r.stopped.map(stoppedText).join(', ') : 'none'} | ${r.spikes.join(' / ')} | ${divergedPerSeed(r.perSeed) ?? '—'} | ${r.gaps.map((g) => `${formatGap(g.median)} (${formatGap(g.mean)})`).join(' | ')} |`,
    ),
  ];
  // The two settings side by side on the same instances: a pseudo-figure holding both.
  const models = without.agg.optimizers.map((o) => o.label).filter((l) => withIt.agg.optimizers.some((o) => o.label === l));
  const [base, stabilised] = [without.paired ?? without.agg, withIt.paired ?? withIt.agg];
  const paired: SeedAggregate = {
    ...base,
    optimizers: [
      ...base.optimizers.filter((o) => models.includes(o.label)),
      ...stabilised.optimizers.filter((o) => models.includes(o.label)).map((o) => ({ ...o, label: `${o.label} (${stabiliser})` })),
    ],
    resolution: Math.max(base.resolution ?? 0, stabilised.resolution ?? 0) || undefined,
  };
  const sameSeeds = JSON.stringify(base.seeds) === JSON.stringify(stabilised.seeds);
  const pairedSeedsNote =
    sameSeeds && (base.seeds.length < without.agg.seeds.length || stabilised.seeds.length < withIt.agg.seeds.length)
      ? ` (on seeds ${base.seeds.join(', ')}, those both settings have a run for)`
      : '';
  const conclusions = models.map((m) => {
    const a = all.find((r) => r.model === m && r.setting === 'paper protocol')!;
    const b = all.find((r) => r.model === m && r.setting === stabiliser)!;
    // Spikes and diverging instances are counted on the seeds both settings have a run for, so
    // that the two counts are of the same seeds; every stopped training counts.
    const both = a.seedList.filter((seed) => b.seedList.includes(seed));
    const onBoth = (r: Row, xs: readonly number[]) => sum(xs.filter((_, i) => both.includes(r.seedList[i]!)));
    // Diverging instances counted under an older rule (which counted ripples near F*) are not counted.
    const diverging = (r: Row) =>
      r.perSeed.some((p) => p.diverged === null)
        ? 0
        : onBoth(
            r,
            r.perSeed.map((p) => p.diverged!),
          );
    const blowUps = (r: Row) => r.stopped.length + onBoth(r, r.spikes) + diverging(r);
    const counts = (r: Row) =>
      `${r.stopped.length ? `${plural(r.stopped.length, 'stopped training')}, ` : ''}${plural(onBoth(r, r.spikes), 'validation spike')} and ` +
      (r.perSeed.some((p) => p.diverged === null) ? 'diverging instances not counted (an older rule)' : plural(diverging(r), 'diverging instance'));
    const k20 = sameSeeds ? compareAt(paired, `${m} (${stabiliser})`, m, 20) : null;
    const comparisons = sameSeeds
      ? AT.flatMap((k) => {
          const c = compareAt(paired, `${m} (${stabiliser})`, m, k);
          return c ? [`- ${comparisonText(`${m} (${stabiliser})`, m, k, c)}`] : [];
        })
      : ['- (the two settings were run over different seeds: no paired comparison)'];
    const removes = blowUps(a) > 0 && blowUps(b) === 0;
    const hurts = k20?.verdict === 'b';
    const verdict =
      blowUps(a) === 0 && blowUps(b) === 0
        ? `without ${stabiliser}, ${m} had no validation spike and no diverging test instance: there was nothing to remove`
        : blowUps(a) === 0
          ? `without ${stabiliser}, ${m} had no blow-up, and with it ${counts(b)}: ${stabiliser} does not prevent them`
          : removes && !hurts
            ? `${stabiliser} removes ${m}'s blow-ups (${counts(a)} without it, none with it) without hurting k = 20`
            : removes
              ? `${stabiliser} removes ${m}'s blow-ups but is significantly worse at k = 20`
              : `${stabiliser} does not remove ${m}'s blow-ups (with it ${counts(b)}; without it ${counts(a)})`;
    return { m, verdict, comparisons, removes: removes && !hurts };
  });
  return [
    '# Training stability: the paper protocol against ' + stabiliser,
    '',
    `Generated by \`l2o results\` from the figures ${STABILITY_FIGURES.without} and ${STABILITY_FIGURES.with} (experiments/ablations/), ${without.agg.scale} scale: ` +
      `the same models, seeds and test instances, trained without and with ${stabiliser}. A validation spike is a validation loss above ${SPIKE_FACTOR}× the best before it (or not finite); ` +
      `diverged test instances: ${DIVERGED_MEANING}; a stopped training is one the trainer ended on a non-finite loss (the paper protocol), so that seed has no run of that setting.`,
    '',
    ...table,
    '',
    `## Paired comparisons (the same instances, with against without${pairedSeedsNote})`,
    '',
    ...conclusions.flatMap((c) => [`${c.m}:`, '', ...c.comparisons, '']),
    '## Conclusion',
    '',
    ...(JSON.stringify(without.agg.seeds) === JSON.stringify(withIt.agg.seeds)
      ? []
      : [
          `Validation spikes and diverging instances are counted on the seeds both settings have a run for (${without.agg.seeds.filter((seed) => withIt.agg.seeds.includes(seed)).join(', ')}); stopped trainings on all.`,
          '',
        ]),
    ...conclusions.map((c) => `- ${c.verdict}.`),
    '',
    conclusions.every((c) => c.removes)
      ? `${stabiliser} removes the blow-ups without hurting k = 20: the verdict figures are to be regenerated both ways, the paper's protocol first.`
      : `The verdict figures stay on the paper's protocol alone.`,
    '',
  ].join('\n');
}
