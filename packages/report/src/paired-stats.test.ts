import mt19937 from '@stdlib/random-base-mt19937';
import { describe, expect, it } from 'vitest';
import { bootstrapMedian, minimumForLevel, pairedComparison, type PairedSeed } from './paired-stats.js';
import { studentTQuantile } from './seeds.js';

/** A seeded uniform generator on [0, 1), so every test's data are fixed. */
const uniform = (seed: number) => (mt19937.factory({ seed }) as unknown as { normalized: () => number }).normalized;

/** n gaps log-uniform between 10^-hi and 10^-lo. */
function logUniform(seed: number, n: number, lo = 3, hi = 9): Float64Array {
  const u = uniform(seed);
  return Float64Array.from({ length: n }, () => 10 ** -(lo + (hi - lo) * u()));
}

/** n iid N(0, 1) draws (Box–Muller). */
function normals(seed: number, n: number): Float64Array {
  const u = uniform(seed);
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0) / xs.length;
const floor = 1e-12;

describe('pairedComparison', () => {
  it('finds a clear win: A’s gaps 10× smaller on every instance give a median of exactly −1', () => {
    // Decades, so that every log10 is exact.
    const seeds: PairedSeed[] = [1, 2, 3].map((seed) => {
      const u = uniform(seed);
      const k = Array.from({ length: 200 }, () => 2 + Math.floor(8 * u()));
      return { seed, a: k.map((e) => Number(`1e-${e + 1}`)), b: k.map((e) => Number(`1e-${e}`)) };
    });
    const c = pairedComparison(seeds, { floor });
    expect(c).toEqual({ median: -1, lo: -1, hi: -1, seedMedians: [-1, -1, -1], shareABetter: 1, seeds: 3, instances: 600, verdict: 'a' });

    // Arbitrary gaps, A's a tenth of B's: −1 to rounding, and the interval stays below 0.
    const random = [4, 5, 6].map((seed) => {
      const b = logUniform(seed, 300);
      return { seed, a: b.map((x) => x / 10), b };
    });
    const r = pairedComparison(random, { floor });
    expect(r.median).toBeCloseTo(-1, 12);
    expect(r.hi).toBeLessThan(0);
    expect(r.verdict).toBe('a');
  });

  it('with no difference and seeds that differ more than their instances, is significant at about the 5% it promises, not whenever three seeds agree', () => {
    // d = u_s + e: seed effect u_s ~ N(0, 1), instance noise e ~ N(0, 1), 64 instances per seed:
    // the seeds' spread dwarfs a median's sampling error (≈ 0.16). Three seed medians share a sign
    // with chance 1/4, and the resampled seeds alone then gave an interval that excluded 0.
    const draws = 200;
    let significant = 0;
    let sameSign = 0;
    for (let r = 0; r < draws; r++) {
      const effects = normals(7000 + r, 3);
      const seeds = [0, 1, 2].map((seed) => {
        const e = normals(9000 + 3 * r + seed, 64);
        return { seed, a: Array.from(e, (x) => 1e-3 * 10 ** (effects[seed]! + x)), b: Array.from(e, () => 1e-3) };
      });
      const c = pairedComparison(seeds, { floor, rngSeed: 1 + r });
      if (c.verdict !== 'tie') significant++;
      if (c.seedMedians.every((m) => m > 0) || c.seedMedians.every((m) => m < 0)) sameSign++;
    }
    expect(sameSign / draws).toBeGreaterThan(0.15);
    expect(significant / draws).toBeLessThan(0.1);
  });

  it('calls identical distributions a tie, with an interval around 0, and mirrors when A and B swap', () => {
    const seeds = [1, 2, 3].map((seed) => ({ seed, a: logUniform(100 + seed, 300), b: logUniform(200 + seed, 300) }));
    const c = pairedComparison(seeds, { floor });
    expect(c.verdict).toBe('tie');
    expect(c.lo).toBeLessThan(0);
    expect(c.hi).toBeGreaterThan(0);
    expect(Math.abs(c.shareABetter - 0.5)).toBeLessThan(0.05);
    // d → −d: the same draws give the negated medians, so the interval mirrors exactly.
    const swapped = pairedComparison(
      seeds.map(({ seed, a, b }) => ({ seed, a: b, b: a })),
      { floor },
    );
    expect(swapped.median).toBe(-c.median);
    expect([swapped.lo, swapped.hi]).toEqual([-c.hi, -c.lo]);
    expect(swapped.shareABetter).toBeCloseTo(1 - c.shareABetter, 12);
  });

  it('widens the interval with the spread between training seeds, not only between instances', () => {
    // Each seed is tightly concentrated (d at −1.5, −0.5 and +0.5): the instances alone give a narrow
    // interval around −0.5; resampling the seeds shows that another seed could land anywhere in [−1.5, 0.5].
    const seeds = [-1.5, -0.5, 0.5].map((shift, s) => {
      const b = logUniform(300 + s, 400);
      const noise = normals(400 + s, 400);
      return { seed: s, a: b.map((x, i) => x * 10 ** (shift + 0.01 * noise[i]!)), b };
    });
    const c = pairedComparison(seeds, { floor });
    expect(c.median).toBeCloseTo(-0.5, 1);
    expect(c.lo).toBeLessThan(-1.4);
    expect(c.hi).toBeGreaterThan(0.4);
    expect(c.verdict).toBe('tie');
    // Three seed medians −1.5, −0.5, +0.5: mean −0.5, standard deviation 1, so the t-interval over
    // trainings is −0.5 ± t(0.975, 2) / √3 = −0.5 ± 2.48, wider than the resampled seeds' [−1.5, 0.5].
    const half = studentTQuantile(0.975, 2) / Math.sqrt(3);
    c.seedMedians.forEach((m, s) => expect(m).toBeCloseTo([-1.5, -0.5, 0.5][s]!, 2));
    expect(c.lo).toBeCloseTo(-0.5 - half, 2);
    expect(c.hi).toBeCloseTo(-0.5 + half, 2);
    // The same instances as if they came from one seed: A wins, narrowly.
    const pooled = pairedComparison([{ seed: 0, a: seeds.flatMap((s) => Array.from(s.a)), b: seeds.flatMap((s) => Array.from(s.b)) }], { floor });
    expect(pooled.median).toBe(c.median);
    expect(pooled.hi - pooled.lo).toBeLessThan(0.2);
    expect(pooled.verdict).toBe('a');
  });

  it('raises gaps to the floor: both below it is unresolved, one below and one above is decided', () => {
    const n = 100;
    const below = (x: number) => Array.from({ length: n }, (_, i) => x * (1 + i / n));
    const both = pairedComparison([{ seed: 0, a: below(1e-15), b: [0, ...below(1e-14).slice(1)] }], { floor });
    expect(both).toEqual({ median: 0, lo: 0, hi: 0, seedMedians: [0], shareABetter: 0.5, seeds: 1, instances: n, verdict: 'unresolved' });

    const b = Array.from({ length: n }, () => 1e-6);
    const aWins = pairedComparison([{ seed: 0, a: below(1e-15), b }], { floor });
    // A's advantage counts only down to the floor: log10(1e-12) − log10(1e-6).
    expect(aWins).toMatchObject({ median: -6, lo: -6, hi: -6, shareABetter: 1, verdict: 'a' });
    expect(pairedComparison([{ seed: 0, a: b, b: below(1e-15) }], { floor })).toMatchObject({ median: 6, shareABetter: 0, verdict: 'b' });
  });

  it('counts diverged instances (NaN, Infinity) as worse without letting them decide, where a mean would', () => {
    const seeds = [1, 2, 3].map((seed) => {
      const b = logUniform(seed, 1000);
      const a: number[] = Array.from(b, (x) => x / 10);
      return { seed, a, b: Array.from(b) };
    });
    const diverged = seeds[1]!;
    [3, 50, 77, 120].forEach((i) => (diverged.a[i] = Number.POSITIVE_INFINITY));
    [200, 201].forEach((i) => (diverged.a[i] = Number.NaN));
    [400, 500, 600].forEach((i) => (diverged.a[i] = 1e3)); // blew up, still finite
    diverged.a[700] = Number.NaN;
    diverged.b[700] = Number.POSITIVE_INFINITY; // both diverged here: no preference

    // The mean of A's gaps, even over its finite ones, says B is far better.
    expect(mean(diverged.a.filter(Number.isFinite))).toBeGreaterThan(100 * mean(diverged.b.filter(Number.isFinite)));
    expect(mean(diverged.a)).toBeNaN();

    const c = pairedComparison(seeds, { floor });
    expect(c.verdict).toBe('a');
    expect(c.median).toBeCloseTo(-1, 12);
    expect(c.hi).toBeLessThan(0);
    expect(c.instances).toBe(3000);
    expect(c.shareABetter).toBe((3000 - 10 + 0.5) / 3000);
    // A diverged on one instance and B on the other: the median of d = [+∞, −∞] is 0, not NaN.
    expect(pairedComparison([{ seed: 0, a: [Number.NaN, 1e-3], b: [1e-3, Number.POSITIVE_INFINITY] }], { floor })).toMatchObject({
      median: 0,
      shareABetter: 0.5,
      verdict: 'tie',
    });
  });

  it('is reproducible: the same rngSeed gives the same interval, another seed another one', () => {
    // The same instances in another order for each seed: equal seed medians, so the interval is the bootstrap's.
    const a = logUniform(11, 200);
    const b = logUniform(21, 200);
    const seeds = [1, 2].map((seed) => ({ seed, a: seed === 1 ? a : a.slice().reverse(), b: seed === 1 ? b : b.slice().reverse() }));
    const first = pairedComparison(seeds, { floor, rngSeed: 7 });
    expect(pairedComparison(seeds, { floor, rngSeed: 7 })).toEqual(first);
    expect(pairedComparison(seeds, { floor })).toEqual(pairedComparison(seeds, { floor, rngSeed: 20260 }));
    const other = pairedComparison(seeds, { floor, rngSeed: 8 });
    expect(other.median).toBe(first.median);
    expect([other.lo, other.hi]).not.toEqual([first.lo, first.hi]);
  });

  it('refuses bad input with one line naming it, before resampling', () => {
    const ok = { seed: 1, a: [1e-3], b: [1e-4] };
    expect(() => pairedComparison([{ seed: 4, a: [1, 2], b: [1] }], { floor })).toThrow(/Seed 4 has 2 gaps for A and 1 for B/);
    expect(() => pairedComparison([], { floor })).toThrow(/No seeds/);
    expect(() => pairedComparison([ok, ok], { floor })).toThrow(/Seed 1 is given twice/);
    expect(() => pairedComparison([{ seed: 2, a: [], b: [] }], { floor })).toThrow(/Seed 2 has no instances/);
    expect(() => pairedComparison([ok], { floor: 0 })).toThrow(/floor .* must be a positive gap, got 0/);
    expect(() => pairedComparison([ok], { floor, rngSeed: 0 })).toThrow(/rngSeed must be an integer from 1/);
    expect(() => pairedComparison([ok], { floor, resamples: 2.5 })).toThrow(/resamples must be a positive integer/);
    expect(() => pairedComparison([ok], { floor, level: 95 })).toThrow(/level must be between 0 and 1/);
  });

  it('runs 2000 resamples of 3 seeds × 1024 instances in well under a second', () => {
    const seeds = [1, 2, 3].map((seed) => ({ seed, a: logUniform(seed, 1024), b: logUniform(seed + 10, 1024) }));
    // CPU time, not wall time: other processes on a shared machine do not count.
    const start = process.cpuUsage();
    pairedComparison(seeds, { floor });
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1e6).toBeLessThan(1);
  });
});

describe('bootstrapMedian', () => {
  it('gives the interval width theory gives for the median of normal draws', () => {
    // The median of n iid N(0, 1) draws is about N(0, π / (2n)): 95% half-width 1.96 √(π/2) / √n.
    // The bootstrap's estimate of it varies by about n^(-1/4) from sample to sample, so average 4.
    const n = 2000;
    const halves = [1, 2, 3, 4].map((s) => {
      const r = bootstrapMedian([{ seed: 0, values: normals(500 + s, n) }], { rngSeed: s });
      expect(r.lo).toBeLessThan(r.median);
      expect(r.hi).toBeGreaterThan(r.median);
      return (r.hi - r.lo) / 2;
    });
    const theory = (1.96 * Math.sqrt(Math.PI / 2)) / Math.sqrt(n);
    expect(mean(halves) / theory).toBeGreaterThan(0.75);
    expect(mean(halves) / theory).toBeLessThan(1.25);
  });

  it('gives no interval from fewer values than a 95% interval needs: three seeds of one instance each decide nothing', () => {
    // 2 · 0.5ⁿ ≤ 1 − level: 6 values at 95%, 5 at 90%, 8 at 99%.
    expect([0.95, 0.9, 0.99].map(minimumForLevel)).toEqual([6, 5, 8]);
    // One instance per seed (a single UCI dataset), A 10⁴ times better on each: the percentile
    // bootstrap's interval would lie below 0, though three values share a sign with chance 1/4.
    const one = [1, 2, 3].map((seed) => ({ seed, a: [1e-12 * seed], b: [1e-8 * seed] }));
    const c = pairedComparison(one, { floor: 1e-15 });
    expect(c).toMatchObject({ median: -4, lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY, tooFew: true, instances: 3, verdict: 'tie' });
    expect(bootstrapMedian([{ seed: 1, values: [1, 2, 3, 4, 5] }])).toMatchObject({ median: 3, tooFew: true });
    // Two instances per seed, six in all: decided.
    const two = [1, 2, 3].map((seed) => ({ seed, a: [1e-12, 2e-12], b: [1e-8, 2e-8] }));
    expect(pairedComparison(two, { floor: 1e-15 })).toMatchObject({ verdict: 'a', lo: -4, hi: -4 });
    expect(pairedComparison(two, { floor: 1e-15 }).tooFew).toBeUndefined();
    // At 90%, five values are enough.
    expect(bootstrapMedian([{ seed: 1, values: [1, 2, 3, 4, 5] }], { level: 0.9 }).tooFew).toBeUndefined();
  });

  it('resamples as pairedComparison does, takes Infinity as never reached, and refuses NaN', () => {
    const seeds = [1, 2, 3].map((seed) => ({ seed, a: logUniform(30 + seed, 150), b: logUniform(40 + seed, 150) }));
    const paired = pairedComparison(seeds, { floor, rngSeed: 99 });
    const d = seeds.map(({ seed, a, b }) => ({ seed, values: a.map((x, i) => Math.log10(x) - Math.log10(b[i]!)) }));
    expect(bootstrapMedian(d, { rngSeed: 99 })).toEqual({ median: paired.median, lo: paired.lo, hi: paired.hi, seedMedians: paired.seedMedians });

    // Iterations to a threshold; one seed's run never reached it on most instances.
    const iterations = [
      { seed: 1, values: [10, 12, 14] },
      { seed: 2, values: [11, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY] },
    ];
    const r = bootstrapMedian(iterations);
    expect(r.median).toBe(13);
    // Seed 2's median, never reached, counts as the largest value seen (14): over the seed medians
    // 12 and 14 the t-interval is 13 ± t(0.975, 1) · √2 / √2, below the bootstrap's lowest draw.
    expect(r.seedMedians).toEqual([12, Number.POSITIVE_INFINITY]);
    expect(r.lo).toBeCloseTo(13 - studentTQuantile(0.975, 1), 12);
    expect(r.hi).toBe(Number.POSITIVE_INFINITY);
    expect(() => bootstrapMedian([{ seed: 5, values: [1, Number.NaN] }])).toThrow(/Seed 5 has NaN at index 1/);
  });
});
