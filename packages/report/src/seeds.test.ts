import { describe, expect, it } from 'vitest';
import { DIVERGENCE_FLOOR } from '@l2o/core';
import { aggregateSeeds, divergedPerSeed, meanWithInterval, seedTableMarkdown, studentTCdf, studentTQuantile } from './seeds.js';
import { geometricCurve, summaryFor } from './test-utils/curves.js';
import type { LoadedRun } from './rerender.js';

describe("Student's t", () => {
  it('gives the tabulated two-sided 95% critical values', () => {
    // t(0.975, ν) from standard tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    const table: [number, number][] = [
      [1, 12.706204736174698],
      [2, 4.302652729749464],
      [4, 2.7764451051977987],
      [9, 2.2621571627409915],
      [30, 2.0422724563012373],
    ];
    for (const [dof, t] of table) expect(studentTQuantile(0.975, dof)).toBeCloseTo(t, 8);
  });

  it('has closed forms at 1 and 2 degrees of freedom, and is symmetric', () => {
    // ν = 1 is Cauchy: F(t) = 1/2 + atan(t)/π; ν = 2: F(t) = 1/2 + t / (2 √(2 + t²)).
    for (const t of [-3, -0.5, 0, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
    expect(studentTQuantile(0.1, 5)).toBeCloseTo(-studentTQuantile(0.9, 5), 10);
  });

  it('gives the mean and the half-width t·s/√n', () => {
    const v = [1, 2, 4];
    const mean = 7 / 3;
    const s = Math.sqrt(((1 - mean) ** 2 + (2 - mean) ** 2 + (4 - mean) ** 2) / 2);
    const r = meanWithInterval(v);
    expect(r.mean).toBeCloseTo(mean, 12);
    expect(r.half).toBeCloseTo((4.302652729749464 * s) / Math.sqrt(3), 8);
    expect(meanWithInterval([5]).half).toBeNaN();
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004: the mean of equal values is the value, the spread 0.
    expect(meanWithInterval([0.1, 0.1, 0.1])).toEqual({ mean: 0.1, half: 0, n: 3 });
    expect(meanWithInterval([1, Number.NaN]).mean).toBeNaN();
  });
});

function run(id: string, seed: number, rates: [string, number][], name = 'fig1'): LoadedRun {
  const curves = rates.map(([label, rate]) => geometricCurve(label, rate, { iterations: 20 }));
  return { id, curves, summary: summaryFor(name, curves, { scale: 'cpu', seed }, { trainingSeconds: 10 + seed }) };
}

describe('aggregateSeeds', () => {
  const runs = [
    run('a', 0, [
      ['fista', 0.5],
      ['ista', 0.9],
    ]),
    run('b', 1, [
      ['fista', 0.6],
      ['ista', 0.8],
    ]),
    run('c', 2, [
      ['fista', 0.7],
      ['ista', 0.7],
    ]),
  ];

  it('averages each optimizer’s gap per iteration over the seeds, with the t-interval', () => {
    const agg = aggregateSeeds(runs);
    expect(agg.seeds).toEqual([0, 1, 2]);
    const fista10 = agg.optimizers[0]!.gap[10]!;
    const values = [0.5 ** 10, 0.6 ** 10, 0.7 ** 10];
    expect(fista10.mean).toBeCloseTo(values.reduce((a, b) => a + b) / 3, 14);
    expect(fista10).toEqual(meanWithInterval(values));
    expect(agg.optimizers[1]!.label).toBe('ista');
    expect(agg.optimizers[0]!.trainingSeconds.mean).toBeCloseTo(11, 12);
    const table = seedTableMarkdown(agg, [10]);
    expect(table).toMatch(/mean over 3 seeds \(0, 1, 2\)/);
    expect(table.split('\n').filter((l) => l.startsWith('| fista'))).toHaveLength(1);
  });

  it('counts diverged instances per seed, each of its own instances, and not those counted under an older rule', () => {
    // Seed s has 5 + s instances with a gap (a BSDS500 set's flat patches vary by seed); fista diverged on s of them.
    const withInstances = (r: LoadedRun, s: number, floor: number | undefined): LoadedRun => ({
      ...r,
      curves: r.curves.map((c) => ({
        ...c,
        gapInstances: 5 + s,
        perInstance: {
          at: [0, 20],
          gaps: [
            Array.from({ length: 5 + s }, () => 1),
            Array.from({ length: 5 + s }, (_, i) => (i < s && c.optimizer === 'fista' ? Number.POSITIVE_INFINITY : 1e-3)),
          ],
          iterationsTo: {},
          diverged: c.optimizer === 'fista' ? Array.from({ length: s }, (_, i) => i) : [],
          ...(floor !== undefined ? { divergenceFloor: floor } : {}),
        },
      })),
    });
    const counted = aggregateSeeds(runs.map((r, s) => withInstances(r, s, DIVERGENCE_FLOOR)));
    expect(divergedPerSeed(counted.optimizers[0]!.perSeed!)).toBe('0 of 5 / 1 of 6 / 2 of 7');
    expect(
      divergedPerSeed([
        { diverged: 3, instances: 9 },
        { diverged: 0, instances: 9 },
      ]),
    ).toBe('3 / 0 of 9');
    const table = seedTableMarkdown(counted, [10]);
    expect(table).toMatch(/^\| fista \|.* \| 0 of 5 \/ 1 of 6 \/ 2 of 7 \|$/m);
    expect(table).toContain(`gaps below ${DIVERGENCE_FLOOR} counted as ${DIVERGENCE_FLOOR}`);
    expect(table).not.toContain('older rule');
    // Seed 1's run counted them under the rule before divergenceFloor (floor 1e-8). Its instance blew
    // up (∞ at a kept iteration): the kept gaps decide it under the current rule too.
    const decided = aggregateSeeds(runs.map((r, s) => withInstances(r, s, s === 1 ? undefined : DIVERGENCE_FLOOR)));
    expect(divergedPerSeed(decided.optimizers[0]!.perSeed!)).toBe('0 of 5 / 1 of 6 / 2 of 7');
    // Its listed instance ended at 1e-3 (a ripple between kept iterations, say): only the whole trajectory decides.
    const rippled = (r: LoadedRun): LoadedRun => ({
      ...r,
      curves: r.curves.map((c) =>
        c.optimizer === 'fista' ? { ...c, perInstance: { ...c.perInstance!, gaps: [c.perInstance!.gaps[0]!, c.perInstance!.gaps[0]!.map(() => 1e-3)] } } : c,
      ),
    });
    const older = aggregateSeeds(runs.map((r, s) => (s === 1 ? rippled(withInstances(r, s, undefined)) : withInstances(r, s, DIVERGENCE_FLOOR))));
    expect(older.optimizers[0]!.perSeed!.map((p) => p.diverged)).toEqual([0, null, 2]);
    expect(divergedPerSeed(older.optimizers[0]!.perSeed!)).toBeNull();
    const olderTable = seedTableMarkdown(older, [10]);
    expect(olderTable).toMatch(/^\| fista \|.* \| — \|$/m);
    expect(olderTable).toContain('— where a run counted them under an older rule (evaluate it again)');
  });

  it('matches optimizers by label, whatever their order in each run', () => {
    const swapped = run('d', 3, [
      ['ista', 0.6],
      ['fista', 0.4],
    ]);
    const agg = aggregateSeeds([runs[0]!, swapped]);
    expect(agg.optimizers.map((o) => o.label)).toEqual(['fista', 'ista']);
    expect(agg.optimizers[0]!.gap[10]).toEqual(meanWithInterval([0.5 ** 10, 0.4 ** 10]));
    expect(agg.optimizers[1]!.gap[10]).toEqual(meanWithInterval([0.9 ** 10, 0.6 ** 10]));
  });

  it('refuses runs of different experiments or a repeated seed, naming them', () => {
    expect(() =>
      aggregateSeeds([
        runs[0]!,
        run(
          'd',
          5,
          [
            ['fista', 0.5],
            ['ista', 0.9],
          ],
          'fig3',
        ),
      ]),
    ).toThrow(/Runs a and d are not the same experiment/);
    expect(() =>
      aggregateSeeds([
        runs[0]!,
        run('e', 0, [
          ['fista', 0.5],
          ['ista', 0.9],
        ]),
      ]),
    ).toThrow(/Two of the runs have seed 0/);
    expect(() => aggregateSeeds([])).toThrow(/No runs to aggregate/);
  });
});
