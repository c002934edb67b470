import type { ValidationSeries } from './figure-data.js';
import type { SeedAggregate } from './seeds.js';
import { formatGap } from './summary.js';
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

interface Row {
  model: string;
  setting: string;
  seeds: number;
  /** Spikes per seed. */
  spikes: number[];
  /** Diverged test instances per seed, and instances per seed. */
  diverged: number[];
  instances: number;
  /** Median over instances pooled over seeds, and mean over seeds of the mean, at each k. */
  gaps: { k: number; median: number; mean: number }[];
}

const AT = [20, 50, 100];

function rows(agg: SeedAggregate, setting: string, validation: readonly ValidationSeries[]): Row[] {
  return agg.optimizers.map((o) => ({
    model: o.label,
    setting,
    seeds: agg.seeds.length,
    spikes: agg.seeds.map((seed) => validationSpikes(validation.find((v) => v.label === o.label && v.seed === seed)?.points ?? [])),
    diverged: o.perSeed?.map((s) => s.diverged) ?? [],
    instances: o.perSeed?.[0]?.instances ?? 0,
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

/**
 * The stability page: each model with and without the stabiliser over the same seeds and test
 * instances — validation spikes, diverging test instances, gaps at k = 20, 50, 100 — the paired
 * comparison of the two settings, and the conclusion: whether the stabiliser removes the blow-ups
 * without hurting k = 20.
 */
export function stabilityMarkdown(
  without: { agg: SeedAggregate; validation: readonly ValidationSeries[] },
  withIt: { agg: SeedAggregate; validation: readonly ValidationSeries[] },
  stabiliser: string,
): string {
  const all = [...rows(without.agg, 'paper protocol', without.validation), ...rows(withIt.agg, stabiliser, withIt.validation)];
  const table = [
    `| model | training | seeds | validation spikes (per seed) | diverged test instances (per seed) | ${AT.map((k) => `gap k = ${k}: median (mean)`).join(' | ')} |`,
    `| --- | --- | --- | --- | --- | ${AT.map(() => '---').join(' | ')} |`,
    ...all.map(
      (r) =>
        `| ${r.model} | ${r.setting} | ${r.seeds} | ${r.spikes.join(' / ')} | ${r.diverged.length ? `${r.diverged.join(' / ')} of ${r.instances}` : '—'} | ${r.gaps.map((g) => `${formatGap(g.median)} (${formatGap(g.mean)})`).join(' | ')} |`,
    ),
  ];
  // The two settings side by side on the same instances: a pseudo-figure holding both.
  const models = without.agg.optimizers.map((o) => o.label).filter((l) => withIt.agg.optimizers.some((o) => o.label === l));
  const paired: SeedAggregate = {
    ...without.agg,
    optimizers: [
      ...without.agg.optimizers.filter((o) => models.includes(o.label)),
      ...withIt.agg.optimizers.filter((o) => models.includes(o.label)).map((o) => ({ ...o, label: `${o.label} (${stabiliser})` })),
    ],
    resolution: Math.max(without.agg.resolution ?? 0, withIt.agg.resolution ?? 0) || undefined,
  };
  const sameSeeds = JSON.stringify(without.agg.seeds) === JSON.stringify(withIt.agg.seeds);
  const conclusions = models.map((m) => {
    const a = all.find((r) => r.model === m && r.setting === 'paper protocol')!;
    const b = all.find((r) => r.model === m && r.setting === stabiliser)!;
    const blowUps = (r: Row) => sum(r.spikes) + sum(r.diverged);
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
      blowUps(a) === 0
        ? `without ${stabiliser}, ${m} had no validation spike and no diverging test instance: there was nothing to remove`
        : removes && !hurts
          ? `${stabiliser} removes ${m}'s blow-ups (${sum(a.spikes)} validation spikes and ${sum(a.diverged)} diverging instances without it, none with it) without hurting k = 20`
          : removes
            ? `${stabiliser} removes ${m}'s blow-ups but is significantly worse at k = 20`
            : `${stabiliser} does not remove ${m}'s blow-ups (${blowUps(b)} spikes and diverging instances with it, ${blowUps(a)} without)`;
    return { m, verdict, comparisons, removes: removes && !hurts };
  });
  return [
    '# Training stability: the paper protocol against ' + stabiliser,
    '',
    `Generated by \`l2o results\` from the figures ${STABILITY_FIGURES.without} and ${STABILITY_FIGURES.with} (experiments/ablations/), ${without.agg.scale} scale: ` +
      `the same models, seeds and test instances, trained without and with ${stabiliser}. A validation spike is a validation loss above ${SPIKE_FACTOR}× the best before it (or not finite); ` +
      'a diverged test instance ended above its starting gap or rose more than 100× above its running best.',
    '',
    ...table,
    '',
    '## Paired comparisons (the same instances, with against without)',
    '',
    ...conclusions.flatMap((c) => [`${c.m}:`, '', ...c.comparisons, '']),
    '## Conclusion',
    '',
    ...conclusions.map((c) => `- ${c.verdict}.`),
    '',
    conclusions.every((c) => c.removes)
      ? `${stabiliser} removes the blow-ups without hurting k = 20: the verdict figures are to be regenerated both ways, the paper's protocol first.`
      : `The verdict figures stay on the paper's protocol alone.`,
    '',
  ].join('\n');
}
