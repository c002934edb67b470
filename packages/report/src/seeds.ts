/**
 * Runs of one experiment over several seeds, aggregated as the paper's figures are read: per
 * optimizer and iteration, the mean over seeds of the mean relative gap with a 95% t-interval
 * (Student's t with n − 1 degrees of freedom over the n seeds), and the iterations to each gap
 * threshold with their spread.
 */
import { divergedUnderCurrentRule, L2oError, perInstanceGaps } from '@l2o/core';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { LoadedRun } from './rerender.js';
import { DIVERGED_MEANING, formatGap } from './summary.js';

/** P(T ≤ t) for Student's t with `dof` degrees of freedom. */
export function studentTCdf(t: number, dof: number): number {
  return tCdf(t, dof);
}

/** The p-quantile of Student's t with `dof` degrees of freedom. */
export function studentTQuantile(p: number, dof: number): number {
  // @stdlib answers NaN (or ±Infinity at p = 0, 1) here; an interval half-width of NaN would pass silently.
  if (!(p > 0 && p < 1) || !(dof > 0)) throw new RangeError(`studentTQuantile: p in (0, 1) and dof > 0, got p ${p}, dof ${dof}`);
  return tQuantile(p, dof);
}

/** Mean over seeds and the half-width of its 95% t-interval (NaN with one seed, or when a seed has no value). */
export interface SeedStat {
  mean: number;
  half: number;
  n: number;
}

export function meanWithInterval(values: readonly number[], level = 0.95): SeedStat {
  const n = values.length;
  if (n === 0 || values.some((v) => !Number.isFinite(v))) return { mean: Number.NaN, half: Number.NaN, n };
  if (n === 1) return { mean: values[0]!, half: Number.NaN, n };
  // Equal values (a baseline on a fixed real data set, whatever the seed): exactly no spread, not
  // the rounding residue of their float mean.
  if (values.every((v) => v === values[0])) return { mean: values[0]!, half: 0, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, half: studentTQuantile(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n), n };
}

export interface SeedAggregate {
  name: string;
  problem: string;
  testDataset: string;
  scale: string;
  iterations: number;
  seeds: number[];
  runs: string[];
  optimizers: {
    label: string;
    /** Per iteration k = 0…K. */
    gap: SeedStat[];
    /** Per threshold: over the seeds that reached it, mean, min and max; `reached` of `n` seeds did. */
    iterationsTo: Record<string, { reached: number; mean: number | null; min: number | null; max: number | null }>;
    trainingSeconds: SeedStat;
    /** A safeguarded optimizer: the share of its steps that kept the learned step, over seeds. */
    acceptance?: SeedStat;
    /** Each seed's per-instance results (in the order of `seeds`), when every run kept them. */
    perSeed?: SeedInstances[];
  }[];
  /**
   * The gap below which the runs' float32 iterates cannot be told apart (the largest resolution of
   * their float64 references), or undefined when a run's gaps were not computed in float64.
   */
  resolution?: number;
}

/** One seed's per-instance results of one optimizer (see PerInstanceResults in @l2o/core). */
export interface SeedInstances {
  seed: number;
  /** The iterations kept. */
  at: number[];
  /** gaps[j][i] at at[j]: +Infinity where it diverged, NaN where the instance has no gap. */
  gaps: number[][];
  /** Per threshold, each instance's iterations to it (null: never). */
  iterationsTo: Record<string, (number | null)[]>;
  /** How many instances diverged (see `diverges` in @l2o/core), of how many with a gap; null: an older rule's count the kept gaps cannot re-decide. */
  diverged: number | null;
  instances: number;
}

/**
 * Diverged instances per seed as the pages write them: "10 / 5 / 12 of 125", or each seed's own
 * count of instances where they differ ("125 of 125 / 127 of 127"); null when a seed's count is of
 * an older rule (one that counted ripples near F*): those runs must be evaluated again.
 */
export function divergedPerSeed(perSeed: readonly Pick<SeedInstances, 'diverged' | 'instances'>[]): string | null {
  if (perSeed.length === 0 || perSeed.some((p) => p.diverged === null)) return null;
  return perSeed.every((p) => p.instances === perSeed[0]!.instances)
    ? `${perSeed.map((p) => p.diverged).join(' / ')} of ${perSeed[0]!.instances}`
    : perSeed.map((p) => `${p.diverged} of ${p.instances}`).join(' / ');
}

/** Aggregates runs of the same experiment and scale over their seeds (one run per seed). */
export function aggregateSeeds(runs: readonly LoadedRun[]): SeedAggregate {
  const first = runs[0];
  if (!first) throw new L2oError('No runs to aggregate.', 'Give the ids of runs of one experiment with different seeds.');
  const key = (r: LoadedRun) =>
    // The same optimizers, in any order (runs stored before their order was kept list them by label).
    JSON.stringify([
      r.summary.name,
      r.summary.problem.id,
      r.summary.testDataset.id,
      r.summary.scale,
      r.summary.iterations,
      r.curves.map((c) => c.optimizer).sort(),
    ]);
  const other = runs.find((r) => key(r) !== key(first));
  if (other) {
    throw new L2oError(
      `Runs ${first.id} and ${other.id} are not the same experiment (name, problem, test dataset, scale, iterations and optimizers must agree).`,
      'Aggregate runs of one spec and scale that differ only in their seed.',
    );
  }
  const seeds = runs.map((r) => r.summary.seed);
  const repeated = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (repeated !== undefined) throw new L2oError(`Two of the runs have seed ${repeated}.`, 'Give one run per seed.');
  const optimizers = first.curves.map((c) => {
    const curves = runs.map((r) => r.curves.find((cc) => cc.optimizer === c.optimizer)!);
    const summaries = runs.map((r) => r.summary.optimizers.find((o) => o.label === c.optimizer));
    const gap = c.meanGap.map((_, k) => meanWithInterval(curves.map((cc) => cc.meanGap[k] ?? Number.NaN)));
    const iterationsTo = Object.fromEntries(
      Object.keys(c.iterationsTo).map((threshold) => {
        const hit = curves.map((cc) => cc.iterationsTo[threshold]).filter((v): v is number => typeof v === 'number');
        return [
          threshold,
          hit.length
            ? { reached: hit.length, mean: hit.reduce((a, b) => a + b, 0) / hit.length, min: Math.min(...hit), max: Math.max(...hit) }
            : { reached: 0, mean: null, min: null, max: null },
        ];
      }),
    );
    const seconds = summaries.map((s) => s?.trainingSeconds);
    const acceptance = summaries.map((s) => s?.acceptance);
    const perSeed = curves.every((cc) => cc.perInstance)
      ? curves.map((cc, r): SeedInstances => {
          const p = cc.perInstance!;
          return {
            seed: seeds[r]!,
            at: p.at,
            gaps: perInstanceGaps(p),
            iterationsTo: p.iterationsTo,
            diverged: divergedUnderCurrentRule(p)?.length ?? null,
            instances: cc.gapInstances,
          };
        })
      : undefined;
    return {
      label: c.optimizer,
      gap,
      iterationsTo,
      ...(perSeed ? { perSeed } : {}),
      trainingSeconds: seconds.every((s) => s !== undefined) ? meanWithInterval(seconds) : { mean: Number.NaN, half: Number.NaN, n: 0 },
      ...(acceptance.every((a) => a !== undefined) ? { acceptance: meanWithInterval(acceptance) } : {}),
    };
  });
  const s = first.summary;
  const allCurves = runs.flatMap((r) => r.curves);
  const resolution = allCurves.every((c) => c.float64 && c.resolution !== undefined) ? Math.max(...allCurves.map((c) => c.resolution!)) : undefined;
  return {
    ...(resolution !== undefined ? { resolution } : {}),
    name: s.name,
    problem: s.problem.id,
    testDataset: s.testDataset.id,
    scale: s.scale,
    iterations: s.iterations,
    seeds,
    runs: runs.map((r) => r.id),
    optimizers,
  };
}

const stat = (v: SeedStat) => (Number.isNaN(v.mean) ? '—' : Number.isNaN(v.half) ? formatGap(v.mean) : `${formatGap(v.mean)} ± ${formatGap(v.half)}`);

/**
 * The aggregate as a Markdown table: mean ± 95% half-width of the relative gap at the given
 * iterations and the last, iterations to each threshold (mean, [min–max], seeds that reached it).
 */
export function seedTableMarkdown(agg: SeedAggregate, at: readonly number[] = [10, 20, 50, 100]): string {
  const ks = [...new Set([...at.filter((k) => k < agg.iterations), agg.iterations])];
  const thresholds = Object.keys(agg.optimizers[0]?.iterationsTo ?? {});
  const n = agg.seeds.length;
  const safeguarded = agg.optimizers.some((o) => o.acceptance);
  const perInstance = agg.optimizers.some((o) => o.perSeed);
  const head = [
    'optimizer',
    ...ks.map((k) => `gap k = ${k}`),
    ...thresholds.map((t) => `iterations to ${Number(t).toExponential(0)}`),
    ...(safeguarded ? ['learned steps kept'] : []),
    'training (s)',
    ...(perInstance ? ['diverged instances (per seed)'] : []),
  ];
  const percent = (v: SeedStat) => (Number.isNaN(v.half) ? `${(100 * v.mean).toFixed(1)}%` : `${(100 * v.mean).toFixed(1)} ± ${(100 * v.half).toFixed(1)}%`);
  const rows = agg.optimizers.map((o) => [
    o.label,
    ...ks.map((k) => stat(o.gap[k] ?? { mean: Number.NaN, half: Number.NaN, n })),
    ...thresholds.map((t) => {
      const it = o.iterationsTo[t]!;
      return it.mean === null ? `— (0/${n})` : `${it.mean.toFixed(1)} [${it.min}–${it.max}]${it.reached < n ? ` (${it.reached}/${n})` : ''}`;
    }),
    ...(safeguarded ? [o.acceptance ? percent(o.acceptance) : '—'] : []),
    Number.isNaN(o.trainingSeconds.mean)
      ? '—'
      : Number.isNaN(o.trainingSeconds.half)
        ? o.trainingSeconds.mean.toFixed(0)
        : `${o.trainingSeconds.mean.toFixed(0)} ± ${o.trainingSeconds.half.toFixed(0)}`,
    ...(perInstance ? [(o.perSeed && divergedPerSeed(o.perSeed)) ?? '—'] : []),
  ]);
  const olderRule = agg.optimizers.some((o) => o.perSeed && divergedPerSeed(o.perSeed) === null);
  return [
    `${agg.name} (${agg.problem} on ${agg.testDataset}, ${agg.scale} scale): mean over ${n} seed${n === 1 ? '' : 's'} (${agg.seeds.join(', ')}) ± the 95% t-interval's half-width` +
      (perInstance ? `; diverged: ${DIVERGED_MEANING}` : '') +
      (olderRule ? '; — where a run counted them under an older rule (evaluate it again)' : ''),
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}
