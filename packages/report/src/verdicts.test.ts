import { describe, expect, it } from 'vitest';
import type { SeedAggregate } from './seeds.js';
import { compareAt, judgeClaims, judgedIterations, verdictTableMarkdown } from './verdicts.js';

/** An aggregate whose optimizers have, at every k, the given mean gap and 95% half-width. */
function agg(name: string, gaps: Record<string, [mean: number, half: number]>, iterations = 100, seeds = [0, 1, 2]): SeedAggregate {
  return {
    name,
    problem: 'lasso',
    testDataset: 'synthetic',
    scale: 'cpu',
    iterations,
    seeds,
    runs: seeds.map((s) => `${name}-${s}`),
    optimizers: Object.entries(gaps).map(([label, [mean, half]]) => ({
      label,
      gap: Array.from({ length: iterations + 1 }, () => ({ mean, half, n: seeds.length })),
      iterationsTo: { '0.01': { reached: seeds.length, mean: label === 'lstm' ? 60 : 35, min: 30, max: 70 } },
      trainingSeconds: { mean: 10, half: 1, n: seeds.length },
    })),
  };
}

describe('compareAt: 95% intervals that separate', () => {
  const a = agg('f', { a: [1e-3, 1e-4], b: [2e-3, 1e-4], c: [1.15e-3, 1e-4] });
  it('better, worse, or a tie when they overlap', () => {
    expect(compareAt(a, 'a', 'b', 50)).toBe('better');
    expect(compareAt(a, 'b', 'a', 50)).toBe('worse');
    expect(compareAt(a, 'a', 'c', 50)).toBe('tie'); // 1.1e-3 > 1.05e-3: the intervals touch
  });
  it('one seed (no interval) is a tie, never a verdict', () => {
    expect(compareAt(agg('f', { a: [1e-3, Number.NaN], b: [1, Number.NaN] }, 100, [0]), 'a', 'b', 50)).toBe('tie');
  });
  it('judges at 20, 50 and the last iteration', () => {
    expect(judgedIterations(a)).toEqual([20, 50, 100]);
    expect(judgedIterations(agg('f', { a: [1, 0] }, 30))).toEqual([20, 30]);
  });
});

describe('judgeClaims', () => {
  const params = { lstm: 5742, gru: 2898, paperRange: [{ hidden: 19, parameters: 4011 }] };

  it('claim 1 holds when gru is separated below both and gru-mha overlaps lstm', () => {
    const [c1] = judgeClaims({ fig1: agg('fig1', { lstm: [2e-3, 2e-4], gru: [1e-3, 1e-4], 'gru-mha': [2.1e-3, 2e-4] }) }, params);
    expect(c1!.verdict).toBe('holds');
    expect(c1!.measured).toContain('gru 1.00e-3 ± 1.00e-4');
  });

  it('claim 1 does not hold when lstm is significantly better than gru; inconclusive when all overlap', () => {
    expect(judgeClaims({ fig1: agg('fig1', { lstm: [1e-4, 1e-5], gru: [1e-3, 1e-4], 'gru-mha': [1e-4, 1e-5] }) }, params)[0]!.verdict).toBe('does not hold');
    expect(judgeClaims({ fig1: agg('fig1', { lstm: [1e-3, 5e-4], gru: [1e-3, 5e-4], 'gru-mha': [1e-3, 5e-4] }) }, params)[0]!.verdict).toBe('inconclusive');
  });

  it('claim 2: gru-mha best and gru worst out of distribution', () => {
    const verdict = (g: Record<string, [number, number]>) => judgeClaims({ fig2: agg('fig2', g) }, params)[1]!.verdict;
    expect(verdict({ lstm: [2e-3, 1e-4], gru: [4e-3, 1e-4], 'gru-mha': [1e-3, 1e-4] })).toBe('holds');
    expect(verdict({ lstm: [4e-3, 1e-4], gru: [2e-3, 1e-4], 'gru-mha': [1e-3, 1e-4] })).toBe('does not hold');
  });

  it('claim 4 needs figs 4, 6 and 7; the lead to a threshold is lstm’s iterations minus gru-mha’s (60 − 35 = 25: within 20–30)', () => {
    const ood = { lstm: [2e-3, 1e-4], 'gru-mha': [1e-3, 1e-4], fista: [3e-3, 1e-4], 'gru-mha-safe': [1e-4, 1e-5] } as Record<string, [number, number]>;
    expect(judgeClaims({ fig4: agg('fig4', ood), fig6: agg('fig6', ood) }, params)[3]!.verdict).toBe('not run');
    const c4 = judgeClaims({ fig4: agg('fig4', ood), fig6: agg('fig6', ood), fig7: agg('fig7', ood) }, params)[3]!;
    // The safeguarded variants are not among the optimizers gru-mha must beat.
    expect(c4.verdict).toBe('holds');
    expect(c4.measured).toContain('25.0 earlier');
    // Each optimizer once per figure (lstm is both a learned model and in figure 3's list).
    for (const part of c4.measured.split(' · ')) expect(part.match(/\blstm -?\d\.\d+e[-+]\d+/g)).toHaveLength(1);
  });

  it('claim 5 from the parameter counts: 1 − 2898/5742 = 49.5% fewer, outside 25–35%', () => {
    const c5 = judgeClaims({}, params)[4]!;
    expect(c5.verdict).toBe('does not hold');
    expect(c5.measured).toContain('49.5% fewer');
    expect(c5.why).toContain('hidden size 19 (4,011 parameters, 30.1% fewer)');
    expect(judgeClaims({}, { lstm: 100, gru: 70, paperRange: [] })[4]!.verdict).toBe('holds');
  });

  it('claims without their figures are "not run", and the table has a row per claim', () => {
    const verdicts = judgeClaims({}, null);
    expect(verdicts.map((v) => v.verdict)).toEqual(['not run', 'not run', 'not run', 'not run', 'not run']);
    expect(verdictTableMarkdown(verdicts).split('\n')).toHaveLength(2 + 5);
  });
});
