import { describe, expect, it } from 'vitest';
import type { SeedAggregate, SeedInstances } from './seeds.js';
import {
  compareAt,
  decidedAcrossScales,
  EQUIVALENCE_MARGIN,
  judgeClaims,
  judgedIterations,
  pairedComparisonsMarkdown,
  verdictTableMarkdown,
} from './verdicts.js';

const AT = [0, 20, 50, 100];
const N = 150;

/** A deterministic spread in [−1, 1] per instance and seed (a hash, not a generator: no state). */
const noise = (i: number, seed: number, phase: number) => {
  const v = Math.sin(i * 12.9898 + seed * 78.233 + phase * 37.719) * 43758.5453;
  return 2 * (v - Math.floor(v)) - 1;
};

interface OptimizerSpec {
  /** Median gap at k ≥ 20 (the start is 1 for everyone); instances spread half a decade each way. */
  gap: number;
  /** Seed → how many instances diverge (their gaps become +Infinity from k = 20). */
  diverge?: Record<number, number>;
  /** Iterations to 1e-2 of every instance. */
  to?: number;
  /** Noise phase: the same phase gives the same instance pattern (a paired difference with no spread). */
  phase?: number;
}

/** An aggregate of per-instance results built from `spec`, over seeds 0–2, K = 100, resolution 1e-15. */
function agg(name: string, spec: Record<string, OptimizerSpec>, seeds = [0, 1, 2], resolution = 1e-15): SeedAggregate {
  return {
    name,
    problem: 'lasso',
    testDataset: 'synthetic',
    scale: 'cpu',
    iterations: 100,
    seeds,
    runs: seeds.map((s) => `${name}-${s}`),
    resolution,
    optimizers: Object.entries(spec).map(([label, o]) => {
      const perSeed = seeds.map((seed): SeedInstances => {
        const diverged = o.diverge?.[seed] ?? 0;
        const gaps = AT.map((k) =>
          Array.from({ length: N }, (_, i) => (k === 0 ? 1 : i < diverged ? Number.POSITIVE_INFINITY : o.gap * 10 ** (0.5 * noise(i, seed, o.phase ?? 0)))),
        );
        return { seed, at: AT, gaps, iterationsTo: { '0.01': Array.from({ length: N }, () => o.to ?? 50) }, diverged, instances: N };
      });
      // The mean over instances per seed, and over seeds: what the old verdicts compared.
      const seedMeans = perSeed.map((s) => s.gaps.at(-1)!.reduce((a, b) => a + b, 0) / N);
      const mean = seedMeans.reduce((a, b) => a + b, 0) / seeds.length;
      return {
        label,
        gap: Array.from({ length: 101 }, () => ({ mean, half: Number.NaN, n: seeds.length })),
        iterationsTo: { '0.01': { reached: seeds.length, mean: o.to ?? 50, min: o.to ?? 50, max: o.to ?? 50 } },
        trainingSeconds: { mean: 10, half: 1, n: seeds.length },
        perSeed,
      };
    }),
  };
}

describe('compareAt: paired over the same instances, pooled over seeds', () => {
  it('a clear win: gaps 10× smaller on the same instances give a median log10 ratio of −1, significant', () => {
    const f = agg('f', { a: { gap: 1e-4 }, b: { gap: 1e-3 } });
    const c = compareAt(f, 'a', 'b', 50)!;
    expect(c.median).toBeCloseTo(-1, 10);
    expect(c.hi).toBeLessThan(0);
    expect(c.verdict).toBe('a');
    expect(compareAt(f, 'b', 'a', 50)!.verdict).toBe('b');
  });

  it('a tie: the same distribution with other instance patterns', () => {
    const c = compareAt(agg('f', { a: { gap: 1e-3, phase: 1 }, b: { gap: 1e-3, phase: 2 } }), 'a', 'b', 50)!;
    expect(c.lo).toBeLessThan(0);
    expect(c.hi).toBeGreaterThan(0);
    expect(c.verdict).toBe('tie');
  });

  it('one diverging seed that a mean turns into a loss is still a win of the medians', () => {
    const f = agg('f', { a: { gap: 1e-4, diverge: { 1: 5 } }, b: { gap: 1e-3 } });
    const [a, b] = f.optimizers;
    // The mean over seeds says a is infinitely worse …
    expect(a!.gap[100]!.mean).toBeGreaterThan(b!.gap[100]!.mean);
    // … the paired medians say a is better on the other 99% of instances.
    const c = compareAt(f, 'a', 'b', 100)!;
    expect(c.verdict).toBe('a');
    expect(c.shareABetter).toBeCloseTo(1 - 5 / (3 * N), 10);
  });

  it('below the resolution nothing is decided: both at 1e-16 with a resolution of 1e-12', () => {
    const f = agg('f', { a: { gap: 1e-17 }, b: { gap: 1e-15 } }, [0, 1, 2], 1e-12);
    expect(compareAt(f, 'a', 'b', 50)!.verdict).toBe('unresolved');
  });

  it('judges at 20, 50 and the last iteration; no per-instance results: null', () => {
    const f = agg('f', { a: { gap: 1e-3 } });
    expect(judgedIterations(f)).toEqual([20, 50, 100]);
    const bare = { ...f, optimizers: f.optimizers.map(({ perSeed: _p, ...o }) => o) };
    expect(compareAt(bare, 'a', 'a', 50)).toBeNull();
  });
});

describe('pairedComparisonsMarkdown: the comparisons behind a figure’s verdicts', () => {
  const params = { lstm: 5742, gru: 2898, lstmHidden: 20, gruHidden: 16, paperRange: [] };

  it('lists each pair a claim compared once, as first compared, at every judged k — those after a contradiction too', () => {
    // Claim 2: gru-mha best (vs lstm, gru) and gru worst (vs lstm, gru-mha, the pair again reversed).
    // lstm is 10× ahead of gru-mha: "best" is contradicted at its first comparison, k = 20.
    const fig2 = agg('fig2', { lstm: { gap: 1e-4 }, gru: { gap: 1e-3, phase: 1 }, 'gru-mha': { gap: 1e-3 } });
    expect(pairedComparisonsMarkdown(fig2)).toEqual([]);
    expect(judgeClaims({ fig2 }, params).find((v) => v.claim === 2)!.verdict).toBe('does not hold');
    const lines = pairedComparisonsMarkdown(fig2);
    expect(lines).toContain('| a vs b | k = 20 | k = 50 | k = 100 |');
    const rows = lines.filter((l) => / vs .* \| /.test(l) && !l.startsWith('| a vs b'));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| gru-mha vs lstm', '| gru-mha vs gru', '| gru vs lstm']);
    // gru-mha's gaps are exactly 10× lstm's on every instance: +1 decade, shown (bold), lower on none.
    const first = rows[0]!.split(' | ');
    expect(first).toHaveLength(4);
    for (const cell of first.slice(1)) expect(cell).toMatch(/^\*\*\+1\.00 \[\+1\.00, \+1\.00\]\*\*; seeds \+1\.00 \+1\.00 \+1\.00; 0% lower/);
    // Other instance patterns at the same median: an interval about 0, not bold.
    expect(rows[1]!.split(' | ')[1]).toMatch(/^[+−]0\.\d\d \[−\d\.\d\d, \+\d\.\d\d\]; seeds/);
  });

  it('says where both gaps are below the resolution, and gives no interval from too few instances', () => {
    const fig1 = agg('fig1', { lstm: { gap: 1e-17 }, gru: { gap: 1e-17, phase: 1 }, 'gru-mha': { gap: 1e-17, phase: 2 } }, [0, 1, 2], 1e-12);
    judgeClaims({ fig1 }, params);
    expect(pairedComparisonsMarkdown(fig1).find((l) => l.startsWith('| gru vs lstm'))).toBe(
      '| gru vs lstm | both below the resolution | both below the resolution | both below the resolution |',
    );
  });
});

describe('judgeClaims', () => {
  const params = { lstm: 5742, gru: 2898, lstmHidden: 20, gruHidden: 16, paperRange: [{ hidden: 19, parameters: 4011 }] };
  const claim = (figures: Parameters<typeof judgeClaims>[0], n: number) => judgeClaims(figures, params)[n]!;

  it('claim 1 holds when gru wins every paired comparison and gru-mha ties lstm; the why names the closest comparison', () => {
    const c1 = claim({ fig1: agg('fig1', { lstm: { gap: 1e-3, phase: 1 }, gru: { gap: 1e-4 }, 'gru-mha': { gap: 1e-3, phase: 2 } }) }, 0);
    expect(c1.verdict).toBe('holds');
    expect(c1.why).toMatch(/gru vs (lstm|gru-mha) at k = \d+: median log10 gap ratio −(0\.9\d|1\.\d\d)/);
    expect(c1.measured).toContain('median gap at k = 100');
  });

  it('claim 1 does not hold when lstm is significantly better than gru, naming that comparison and k; a diverging seed does not flip it', () => {
    const c1 = claim({ fig1: agg('fig1', { lstm: { gap: 1e-5 }, gru: { gap: 1e-3 }, 'gru-mha': { gap: 1e-5, phase: 3 } }) }, 0);
    expect(c1.verdict).toBe('does not hold');
    expect(c1.why).toMatch(/(lstm|gru-mha) is significantly better than gru: gru vs (lstm|gru-mha) at k = 20/);
    // gru best, though one of its seeds diverges on a few instances (its mean over seeds is infinite).
    const diverging = claim(
      { fig1: agg('fig1', { lstm: { gap: 1e-3, phase: 1 }, gru: { gap: 1e-4, diverge: { 2: 4 } }, 'gru-mha': { gap: 1e-3, phase: 2 } }) },
      0,
    );
    expect(diverging.verdict).toBe('holds');
  });

  it('inconclusive when gru ties the others; the why says which comparison was undecided', () => {
    const c1 = claim({ fig1: agg('fig1', { lstm: { gap: 1e-3, phase: 1 }, gru: { gap: 1e-3, phase: 4 }, 'gru-mha': { gap: 1e-3, phase: 2 } }) }, 0);
    expect(c1.verdict).toBe('inconclusive');
    expect(c1.why).toMatch(/gru is never significantly worse, but not significantly better than lstm: gru vs lstm at k = 20/);
  });

  it('claims 1 and 2 are judged again for gru-mha-history (1b, 2b) where figures 1-2 ran it, after the claim of gru-mha', () => {
    const fig1 = agg('fig1', {
      lstm: { gap: 1e-3, phase: 1 },
      gru: { gap: 1e-4 },
      'gru-mha': { gap: 1e-3, phase: 2 },
      'gru-mha-history': { gap: 1e-5, phase: 3 },
    });
    const fig2 = agg('fig2', { lstm: { gap: 1e-3, phase: 1 }, gru: { gap: 1e-2 }, 'gru-mha': { gap: 1e-4 }, 'gru-mha-history': { gap: 1e-3, phase: 4 } });
    const verdicts = judgeClaims({ fig1, fig2 }, params);
    expect(verdicts.map((v) => [v.claim, v.verdict])).toEqual([
      [1, 'holds'],
      ['1b', 'does not hold'],
      [2, 'holds'],
      ['2b', 'inconclusive'],
      [3, 'not run'],
      [4, 'not run'],
      [5, 'does not hold'],
    ]);
    // gru-mha-history, better than gru and lstm in distribution, breaks claim 1b only.
    expect(verdicts[1]!.why).toMatch(/gru-mha-history is significantly better than gru/);
    expect(verdicts[1]!.measured).toContain('gru-mha-history');
    expect(verdicts[0]!.measured).not.toContain('gru-mha-history');
    expect(verdicts[3]!.text).toContain('gru-mha-history best');
  });

  it('divergence that decides a comparison is named in the why', () => {
    const c1 = claim(
      { fig1: agg('fig1', { lstm: { gap: 1e-5 }, gru: { gap: 1e-3, diverge: { 0: 100, 1: 100, 2: 100 } }, 'gru-mha': { gap: 1e-5, phase: 3 } }) },
      0,
    );
    expect(c1.verdict).toBe('does not hold');
    expect(c1.why).toContain('gru diverged on 100 / 100 / 100 of 150 instances');
  });

  it('claims 3 and 4 are judged against the paper’s baselines; the tight-L baselines are a finding row of their own', () => {
    const inDist = { lstm: { gap: 1e-4, phase: 1 }, 'gru-mha': { gap: 1e-4, phase: 2 }, fista: { gap: 1e-3 }, 'fista-tight': { gap: 1e-6 } };
    const verdicts = judgeClaims({ fig3: agg('fig3', inDist), fig5: agg('fig5', inDist) }, params);
    expect(verdicts[2]!.verdict).toBe('holds');
    const finding = verdicts.find((v) => v.claim === 'F1')!;
    expect(finding.verdict).toBe('does not hold');
    expect(finding.why).toContain('fista-tight is significantly better than gru-mha');
  });

  it('claim 4: the lead to each threshold per instance with a bootstrap interval (60 − 35 = 25 holds; 40 − 35 = 5 does not)', () => {
    const ood = (lstmTo: number) => {
      const o = { lstm: { gap: 1e-3, to: lstmTo }, 'gru-mha': { gap: 1e-4, to: 35 }, fista: { gap: 1e-3, phase: 5 }, 'gru-mha-safe': { gap: 1e-6 } };
      return { fig4: agg('fig4', o), fig6: agg('fig6', o), fig7: agg('fig7', o) };
    };
    expect(judgeClaims({ fig4: ood(60).fig4, fig6: ood(60).fig6 }, params)[3]!.verdict).toBe('not run');
    const c4 = judgeClaims(ood(60), params)[3]!;
    // The safeguarded variants are not among the optimizers gru-mha must beat.
    expect(c4.verdict).toBe('holds');
    expect(c4.measured).toContain('to 1e-2 25.0 [25.0, 25.0]');
    expect(judgeClaims(ood(40), params)[3]!.why).toContain('the lead is 5.0 [5.0, 5.0] iterations to 1e-2, wholly outside 20–30');
  });

  it('a claim over several figures: one that ran and contradicts it decides it; otherwise "not run" with what ran so far', () => {
    const ood = (lstmTo: number) => {
      const o = { lstm: { gap: 1e-3, to: lstmTo }, 'gru-mha': { gap: 1e-4, to: 35 }, fista: { gap: 1e-3, phase: 5 } };
      return { fig6: agg('fig6', o), fig7: agg('fig7', o) };
    };
    // Figures 6-7 hold (a lead of 25 iterations), figure 4 has not run: not decided, the evidence so far given.
    const waiting = judgeClaims(ood(60), params)[3]!;
    expect(waiting.verdict).toBe('not run');
    expect(waiting.figures).toEqual(['fig4', 'fig6', 'fig7']);
    expect(waiting.why).toMatch(/^fig4 not run yet .*; so far fig6: .*fig7: /);
    expect(waiting.measured).toContain('fig6 (3 seeds, cpu scale)');
    // A lead of 5 iterations contradicts the claim on figures 6-7: it does not hold, whatever figure 4 shows.
    const contradicted = judgeClaims(ood(40), params)[3]!;
    expect(contradicted.verdict).toBe('does not hold');
    expect(contradicted.figures).toEqual(['fig6', 'fig7']);
    expect(contradicted.why).toMatch(/^fig6: the lead is 5\.0 \[5\.0, 5\.0\] iterations to 1e-2, wholly outside 20–30.*; fig4 not run yet/);
    // Claim 3 on figure 5 alone: lstm significantly better than gru-mha decides it.
    const c3 = judgeClaims({ fig5: agg('fig5', { lstm: { gap: 1e-6 }, 'gru-mha': { gap: 1e-4 }, fista: { gap: 1e-3 } }) }, params)[2]!;
    expect(c3).toMatchObject({ verdict: 'does not hold', figures: ['fig5'] });
    expect(c3.why).toMatch(/^fig5: lstm is ahead by more than the margin ±0\.30 \(gaps within a factor of 2\).*; fig3 not run yet/);
  });

  it('a figure with fewer seeds than a verdict needs (a campaign under way) decides nothing: its claims are "not run", saying how many it has', () => {
    const o = { lstm: { gap: 1e-6 }, gru: { gap: 1e-4 }, 'gru-mha': { gap: 1e-4 }, 'gru-mha-history': { gap: 1e-4 } };
    // Two seeds where lstm is far ahead: with all three, claim 1 does not hold.
    expect(claim({ fig1: agg('fig1', o) }, 0).verdict).toBe('does not hold');
    const early = judgeClaims({ fig1: agg('fig1', o, [0, 1]), fig5: agg('fig5', { lstm: { gap: 1e-6 }, 'gru-mha': { gap: 1e-4 } }, [0]) }, params);
    expect(early.map((v) => [v.claim, v.verdict])).toEqual([
      [1, 'not run'],
      ['1b', 'not run'],
      [2, 'not run'],
      [3, 'not run'],
      [4, 'not run'],
      [5, 'does not hold'],
    ]);
    expect(early[0]!.why).toBe('fig1 has 2 seeds so far (a claim is decided on 3)');
    expect(early[3]!.why).toBe('fig3 not run yet (neither in the run store nor kept in data/); fig5 has 1 seed so far (a claim is decided on 3)');
    // The minimum is the caller's: two seeds decide when it asks for two.
    expect(judgeClaims({ fig1: agg('fig1', o, [0, 1]) }, params, 2)[0]!.verdict).toBe('does not hold');
  });

  /** Only each seed's first instance, as figures 6-7 test on one dataset. */
  const firstInstance = (a: SeedAggregate): SeedAggregate => ({
    ...a,
    optimizers: a.optimizers.map((o) => ({
      ...o,
      perSeed: o.perSeed!.map((s) => ({
        ...s,
        gaps: s.gaps.map((g) => g.slice(0, 1)),
        iterationsTo: { '0.01': s.iterationsTo['0.01']!.slice(0, 1) },
        instances: 1,
      })),
    })),
  });

  it('"on par" is an equivalence test: within ±log10(2) holds even when significant, beyond it does not, an interval too wide to tell is inconclusive', () => {
    expect(EQUIVALENCE_MARGIN).toBeCloseTo(0.30103, 5);
    // gru clearly best; gru-mha's gap is lstm's times `ratio` on every instance (the same pattern).
    const fig1 = (ratio: number) => agg('fig1', { lstm: { gap: 1e-3, phase: 1 }, gru: { gap: 1e-5 }, 'gru-mha': { gap: ratio * 1e-3, phase: 1 } });
    // 10% apart on every instance: significant, yet on par.
    const close = fig1(1.1);
    expect(compareAt(close, 'gru-mha', 'lstm', 50)).toMatchObject({ verdict: 'b' });
    expect(compareAt(close, 'gru-mha', 'lstm', 50)!.median).toBeCloseTo(Math.log10(1.1), 10);
    const c1 = claim({ fig1: close }, 0);
    expect(c1.verdict).toBe('holds');
    expect(c1.why).toContain('within ±0.30 (gaps within a factor of 2) at k = 20, 50, 100; the widest: gru-mha vs lstm at k = ');
    // 3× apart (0.48 decades): not on par.
    const far = claim({ fig1: fig1(3) }, 0);
    expect(far.verdict).toBe('does not hold');
    expect(far.why).toMatch(
      /^lstm is ahead by more than the margin ±0\.30 \(gaps within a factor of 2\): gru-mha vs lstm at k = 20: median log10 gap ratio \+0\.48/,
    );
    // One instance per seed: no difference is significant, and none is shown small either.
    const one = claim({ fig1: firstInstance(fig1(1)) }, 0);
    expect(one.verdict).toBe('inconclusive');
    expect(one.why).toContain('not shown on par: the interval reaches beyond ±0.30 (gaps within a factor of 2) — gru-mha vs lstm at k = 20');
  });

  it('a figure of one instance per seed (a UCI dataset) decides no comparison: three values are too few for a 95% interval', () => {
    const o = { lstm: { gap: 1e-6, to: 60 }, 'gru-mha': { gap: 1e-2, to: 35 }, fista: { gap: 1e-3, phase: 5 } };
    const c4 = judgeClaims(
      { fig4: agg('fig4', { ...o, lstm: { gap: 1e-5, to: 60 }, 'gru-mha': { gap: 1e-6, to: 35 } }), fig6: firstInstance(agg('fig6', o)) },
      params,
    )[3]!;
    // lstm's gap is 10⁴ times smaller on all three, yet that is not significant; figure 7 has not run.
    expect(c4.verdict).toBe('not run');
    expect(c4.why).toContain('fig6: gru-mha is never significantly worse, but not significantly better than lstm');
    expect(c4.why).toContain('(no 95% interval from 3 instances: it needs 6)');
    expect(c4.measured).toContain('to 1e-2 25.0 (too few instances for a 95% interval)');
  });

  it('figures without per-instance results are inconclusive and say to run them again', () => {
    const f = agg('fig1', { lstm: { gap: 1e-3 }, gru: { gap: 1e-4 }, 'gru-mha': { gap: 1e-3 } });
    const bare = { ...f, optimizers: f.optimizers.map(({ perSeed: _p, ...o }) => o) };
    const c1 = claim({ fig1: bare }, 0);
    expect(c1.verdict).toBe('inconclusive');
    expect(c1.why).toContain('kept no per-instance results');
  });

  it('claim 5 from the parameter counts names the sizes: 1 − 2898/5742 = 49.5% fewer, outside 25–35%', () => {
    const c5 = claim({}, 4);
    expect(c5.verdict).toBe('does not hold');
    expect(c5.measured).toContain('gru (hidden 16) 2,898 vs lstm (hidden 20) 5,742 parameters: 49.5% fewer');
    expect(c5.why).toContain('gru hidden 16, lstm hidden 20');
    expect(c5.why).toContain('hidden size 19 (4,011 parameters, 30.1% fewer)');
    expect(judgeClaims({}, { ...params, lstm: 100, gru: 70, paperRange: [] })[4]!.verdict).toBe('holds');
  });

  it('claims without their figures are "not run", and the table has a row per claim', () => {
    const verdicts = judgeClaims({}, null);
    expect(verdicts.map((v) => v.verdict)).toEqual(['not run', 'not run', 'not run', 'not run', 'not run']);
    expect(verdictTableMarkdown(verdicts).split('\n')).toHaveLength(2 + 5);
  });
});

describe('decidedAcrossScales', () => {
  const v = (claim: number | string, verdict: string, figures = ['fig1']) =>
    ({ claim, text: `claim ${claim}`, figures, measured: '', verdict, why: `${verdict} because` }) as const;
  it('takes each claim from the first scale that ran its figures and names it; a claim on no figure names none', () => {
    const decided = decidedAcrossScales([
      { scale: 'paper', verdicts: [v(1, 'not run'), v(3, 'holds', ['fig3', 'fig5']), v(5, 'does not hold', [])] },
      { scale: 'cpu', verdicts: [v(1, 'inconclusive'), v(3, 'does not hold', ['fig3', 'fig5']), v(5, 'does not hold', [])] },
    ] as never);
    expect(decided.map((d) => [d.claim, d.verdict, d.scale])).toEqual([
      [1, 'inconclusive', 'cpu'],
      [3, 'holds', 'paper'],
      [5, 'does not hold', undefined],
    ]);
    const table = verdictTableMarkdown(decided, { compact: true }).split('\n');
    expect(table[0]).toBe('| claim | decided at | figure | verdict | first reason |');
    expect(table[3]).toBe('| 3. claim 3 | paper | fig3, fig5 | **holds** | holds because |');
    expect(table[4]).toBe('| 5. claim 5 | — | — | **does not hold** | does not hold because |');
    expect(decidedAcrossScales([{ scale: 'paper', verdicts: [v(2, 'not run')] }] as never)[0]).toMatchObject({ verdict: 'not run' });
  });
});
