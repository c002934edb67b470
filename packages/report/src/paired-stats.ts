/**
 * Comparing two optimizers A and B evaluated on the same test instances, over several training
 * seeds (each seed with its own test instances): the median of the per-instance log10 ratio of
 * their relative gaps, with a hierarchical bootstrap interval (seeds, then instances within each
 * drawn seed), so that both the spread between instances and the spread between training seeds
 * widen it. Medians, not means: one diverged instance must not decide the comparison.
 *
 * With a few seeds the bootstrap's seed level draws from two or three values, and its percentile
 * interval runs from about the lowest seed's median to the highest's: it excludes 0 whenever the
 * seeds agree in sign, which with no difference at all and seeds that differ more than their
 * instances happens in a quarter of comparisons of three seeds (the test "with no difference and
 * seeds that differ more than their instances" counts it). So the interval is widened to the
 * seeds' own: Student's t over the per-seed medians (n − 1 degrees of freedom), the spread of
 * trainings measured, not resampled.
 */
import { L2oError } from '@l2o/core';
import mt19937 from '@stdlib/random-base-mt19937';
import { meanWithInterval } from './seeds.js';

/** One training seed: the per-instance relative gaps of A and B, same length, same instance order. */
export interface PairedSeed {
  seed: number;
  a: ArrayLike<number>;
  b: ArrayLike<number>;
}

export interface BootstrapOptions {
  /** Bootstrap resamples; 2000 by default. */
  resamples?: number;
  /** Coverage of the percentile interval; 0.95 by default. */
  level?: number;
  /** Seed of the resampling's Mersenne Twister (an integer in 1…2³² − 1); fixed by default, so reports are reproducible. */
  rngSeed?: number;
}

export interface PairedOptions extends BootstrapOptions {
  /** The gap below which the solver cannot resolve differences (its tolerance): gaps are raised to it. */
  floor: number;
}

export interface BootstrapInterval {
  median: number;
  /** The interval: the hierarchical bootstrap's, widened to the t-interval of the per-seed medians. */
  lo: number;
  hi: number;
  /** Each seed's own median, in the order given. */
  seedMedians: number[];
  /**
   * Fewer values than any distribution-free interval at the level needs (minimumForLevel): lo and
   * hi are then −∞ and +∞, and nothing is significant.
   */
  tooFew?: true;
}

/**
 * The fewest values a distribution-free interval for a median can cover it with probability
 * `level` from: the widest, from the smallest value to the largest, misses it with probability
 * 2 · 0.5ⁿ, so n ≥ log₂(2 / (1 − level)): 6 at 95%. A bootstrap of fewer (three seeds of one
 * instance each, as on a single UCI dataset) gives a percentile interval that excludes 0 whenever
 * the values share a sign, a chance of 1 in 4 with no difference at all.
 */
export const minimumForLevel = (level: number) => Math.ceil(Math.log2(2 / (1 - level)) - 1e-9);

/** The intervals' coverage unless a caller asks for another; the pages' texts name it. */
export const DEFAULT_LEVEL = 0.95;

export interface PairedComparison extends BootstrapInterval {
  /** Median over all instances, pooled over seeds, of d = log10(max(a, floor)) − log10(max(b, floor)); negative: A's gap is smaller. */
  median: number;
  /** Its interval: the hierarchical bootstrap's percentile interval, widened to the seeds' t-interval. */
  lo: number;
  hi: number;
  /** Share of the pooled instances with d < 0, ties counting half. */
  shareABetter: number;
  seeds: number;
  instances: number;
  /** 'a' if hi < 0, 'b' if lo > 0, 'unresolved' if every gap of both is at or below the floor, else 'tie'. */
  verdict: 'a' | 'b' | 'tie' | 'unresolved';
}

const DEFAULT_RNG_SEED = 20260;

/** A diverged run's NaN or Infinity is worse than any finite gap. */
const raised = (gap: number, floor: number) => (Number.isFinite(gap) ? Math.max(gap, floor) : Number.POSITIVE_INFINITY);

export function pairedComparison(seeds: readonly PairedSeed[], options: PairedOptions): PairedComparison {
  const { floor } = options;
  if (!(floor > 0 && Number.isFinite(floor))) {
    throw new L2oError(`The floor of a paired comparison must be a positive gap, got ${floor}.`, 'Pass the solver tolerance, e.g. { floor: 1e-12 }.');
  }
  const resampling = resamplingOptions(options);
  checkSeeds(seeds);
  let resolved = false;
  let better = 0;
  const groups = seeds.map(({ seed, a, b }) => {
    if (a.length !== b.length) {
      throw new L2oError(
        `Seed ${seed} has ${a.length} gaps for A and ${b.length} for B.`,
        'Give both optimizers’ gaps on the same test instances, in the same order.',
      );
    }
    if (a.length === 0) throw noInstances(seed);
    const d = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const ga = raised(a[i]!, floor);
      const gb = raised(b[i]!, floor);
      if (ga > floor || gb > floor) resolved = true;
      // Both diverged: no preference (∞ − ∞ would be NaN).
      d[i] = ga === gb ? 0 : Math.log10(ga) - Math.log10(gb);
      better += d[i]! < 0 ? 1 : d[i] === 0 ? 0.5 : 0;
    }
    return d;
  });
  const interval = hierarchicalMedian(groups, resampling);
  const instances = groups.reduce((n, g) => n + g.length, 0);
  return {
    ...interval,
    shareABetter: better / instances,
    seeds: seeds.length,
    instances,
    verdict: !resolved ? 'unresolved' : interval.hi < 0 ? 'a' : interval.lo > 0 ? 'b' : 'tie',
  };
}

/**
 * The median of one quantity pooled over seeds (iterations to a threshold, or a paired difference
 * of them), with the same hierarchical bootstrap interval. Infinity is a valid value (never
 * reached); NaN has no order and is refused.
 */
export function bootstrapMedian(seeds: readonly { seed: number; values: ArrayLike<number> }[], options: BootstrapOptions = {}): BootstrapInterval {
  const resampling = resamplingOptions(options);
  checkSeeds(seeds);
  const groups = seeds.map(({ seed, values }) => {
    const g = Float64Array.from(values);
    if (g.length === 0) throw noInstances(seed);
    const nan = g.findIndex((v) => Number.isNaN(v));
    if (nan >= 0) {
      throw new L2oError(
        `Seed ${seed} has NaN at index ${nan}; a median needs ordered values.`,
        'Map a value that was never reached to Infinity, or leave it out.',
      );
    }
    return g;
  });
  return hierarchicalMedian(groups, resampling);
}

function resamplingOptions(options: BootstrapOptions): Required<BootstrapOptions> {
  const { resamples = 2000, level = DEFAULT_LEVEL, rngSeed = DEFAULT_RNG_SEED } = options;
  if (!(Number.isInteger(resamples) && resamples > 0)) {
    throw new L2oError(`Bootstrap resamples must be a positive integer, got ${resamples}.`, 'Use e.g. resamples: 2000.');
  }
  if (!(level > 0 && level < 1)) throw new L2oError(`The interval level must be between 0 and 1, got ${level}.`, 'Use e.g. level: 0.95.');
  if (!(Number.isInteger(rngSeed) && rngSeed >= 1 && rngSeed <= 0xffffffff)) {
    throw new L2oError(
      `The bootstrap rngSeed must be an integer from 1 to 4294967295, got ${rngSeed}.`,
      'Pass another rngSeed, or none for the fixed default.',
    );
  }
  return { resamples, level, rngSeed };
}

function checkSeeds(seeds: readonly { seed: number }[]): void {
  if (seeds.length === 0) throw new L2oError('No seeds given to compare.', 'Give at least one seed with values.');
  const repeated = seeds.find((s, i) => seeds.findIndex((t) => t.seed === s.seed) !== i);
  if (repeated) throw new L2oError(`Seed ${repeated.seed} is given twice.`, 'Give each training seed once.');
}

const noInstances = (seed: number) => new L2oError(`Seed ${seed} has no instances.`, 'Give every seed at least one value, or leave the seed out.');

/** Median and hierarchical bootstrap percentile interval of the values pooled over the groups (one per seed). */
function hierarchicalMedian(groups: readonly Float64Array[], { resamples, level, rngSeed }: Required<BootstrapOptions>): BootstrapInterval {
  const pooled = new Float64Array(groups.reduce((n, g) => n + g.length, 0));
  let at = 0;
  for (const g of groups) {
    pooled.set(g, at);
    at += g.length;
  }
  const seedMedians = groups.map((g) => medianInPlace(Float64Array.from(g), g.length));
  const across = acrossSeeds(seedMedians, pooled, level);
  const median = medianInPlace(pooled, pooled.length);
  if (pooled.length < minimumForLevel(level)) return { median, lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY, seedMedians, tooFew: true };

  // @stdlib's declarations omit the generator's `normalized` (uniform on [0, 1)), which it has.
  const rng = mt19937.factory({ seed: rngSeed }) as unknown as { normalized: () => number };
  const uniform = rng.normalized;
  const k = groups.length;
  // Seeds may have different instance counts: room for k draws of the largest.
  const buffer = new Float64Array(k * Math.max(...groups.map((g) => g.length)));
  const medians = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let n = 0;
    for (let s = 0; s < k; s++) {
      const g = groups[Math.floor(uniform() * k)]!;
      const m = g.length;
      for (let i = 0; i < m; i++) buffer[n++] = g[Math.floor(uniform() * m)]!;
    }
    medians[r] = medianInPlace(buffer, n);
  }
  medians.sort();
  // The same number of resampled medians below lo as above hi; the epsilon keeps 0.025 · 2000 at 50.
  const tail = Math.floor(((1 - level) / 2) * resamples + 1e-9);
  return { median, lo: Math.min(medians[tail]!, across.lo), hi: Math.max(medians[resamples - 1 - tail]!, across.hi), seedMedians };
}

/**
 * The t-interval over the seeds' medians (one seed: an empty one, which widens nothing). A seed
 * whose median is ±∞ (most of its instances diverged, or never reached a threshold) counts as the
 * largest finite value seen, with its sign; with no finite value at all, the interval is the
 * medians' range.
 */
function acrossSeeds(seedMedians: readonly number[], pooled: Float64Array, level: number): { lo: number; hi: number } {
  // One seed: nothing to widen by (a figure decides claims from three: MIN_DECIDING_SEEDS).
  if (seedMedians.length < 2) return { lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY };
  let largest = 0;
  for (const v of pooled) if (Number.isFinite(v) && Math.abs(v) > largest) largest = Math.abs(v);
  if (largest === 0 && seedMedians.some((m) => !Number.isFinite(m))) return { lo: Math.min(...seedMedians), hi: Math.max(...seedMedians) };
  const finite = seedMedians.map((m) => (Number.isFinite(m) ? m : Math.sign(m) * largest));
  const { mean, half } = meanWithInterval(finite, level);
  return { lo: mean - half, hi: mean + half };
}

/** The median of xs[0…n) (the mean of the two middle values for even n), reordering xs: quickselect, O(n). */
function medianInPlace(xs: Float64Array, n: number): number {
  const h = n >> 1;
  if (n % 2 === 1) return select(xs, n, h);
  const lower = select(xs, n, h - 1);
  // select leaves everything at or above the (h − 1)-th value after it: the h-th is their minimum.
  let upper = xs[h]!;
  for (let i = h + 1; i < n; i++) if (xs[i]! < upper) upper = xs[i]!;
  const sum = lower + upper;
  // Opposite infinities (as many instances diverged for each side): no preference, not NaN.
  return Number.isNaN(sum) ? 0 : sum / 2;
}

/**
 * The k-th smallest of xs[0…n) (Wirth's selection with Hoare partitioning, which stays O(n) with
 * many equal values, as when most gaps sit at the floor), leaving smaller values before it and
 * larger ones after.
 */
function select(xs: Float64Array, n: number, k: number): number {
  let l = 0;
  let r = n - 1;
  while (l < r) {
    const x = xs[k]!;
    let i = l;
    let j = r;
    do {
      while (xs[i]! < x) i++;
      while (x < xs[j]!) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = t;
        i++;
        j--;
      }
    } while (i <= j);
    if (j < k) l = i;
    if (k < i) r = j;
  }
  return xs[k]!;
}
