import { describe, expect, it } from 'vitest';
import type { ValidationSeries } from './figure-data.js';
import type { SeedAggregate, SeedInstances } from './seeds.js';
import { stabilityMarkdown, validationSpikes } from './stability.js';

const AT = [0, 20, 50, 100];
const N = 60;
const SEEDS = [0, 1, 2, 3, 4];

/** gru and gru-mha over 5 seeds: gaps `gap` spread over half a decade; `diverge[seed]` instances of gru-mha diverge. */
function agg(name: string, gap: number, diverge: Record<number, number> = {}): SeedAggregate {
  return {
    name,
    problem: 'lasso',
    testDataset: 'synthetic',
    scale: 'cpu',
    iterations: 100,
    seeds: SEEDS,
    runs: SEEDS.map((s) => `${name}-${s}`),
    resolution: 1e-15,
    optimizers: ['gru', 'gru-mha'].map((label) => ({
      label,
      gap: Array.from({ length: 101 }, () => ({ mean: gap, half: 0, n: SEEDS.length })),
      iterationsTo: {},
      trainingSeconds: { mean: 1, half: 0, n: SEEDS.length },
      perSeed: SEEDS.map((seed): SeedInstances => {
        const diverged = label === 'gru-mha' ? (diverge[seed] ?? 0) : 0;
        const gaps = AT.map((k) =>
          Array.from({ length: N }, (_, i) => (k === 0 ? 1 : i < diverged ? Number.POSITIVE_INFINITY : gap * 10 ** (0.5 * Math.sin(i * 7.1 + seed)))),
        );
        return { seed, at: AT, gaps, iterationsTo: {}, diverged, instances: N };
      }),
    })),
  };
}

const validation = (spikeSeed?: number): ValidationSeries[] =>
  ['gru', 'gru-mha'].flatMap((label) =>
    SEEDS.map((seed) => ({
      label,
      seed,
      points: [1, 0.5, label === 'gru-mha' && seed === spikeSeed ? 1e12 : 0.4, 0.3].map((loss, j) => ({ step: 25 * j, loss })),
    })),
  );

describe('stability page', () => {
  it('a spike is a validation loss above 10× the best before it, or not finite', () => {
    expect(validationSpikes([{ loss: 1 }, { loss: 0.5 }, { loss: 4.9 }, { loss: 5.1 }, { loss: Number.NaN }])).toBe(2);
    expect(validationSpikes([])).toBe(0);
  });

  it('clipping that removes the blow-ups without hurting k = 20 is said to, and the figures are to be regenerated both ways', () => {
    const page = stabilityMarkdown(
      { agg: agg('stability-noclip', 1e-3, { 0: 3 }), validation: validation(0) },
      { agg: agg('stability-clip', 1e-3), validation: validation() },
      'clipping',
    );
    expect(page).toContain('| gru-mha | paper protocol | 5 | none | 1 / 0 / 0 / 0 / 0 | 3 / 0 / 0 / 0 / 0 of 60 |');
    expect(page).toContain(
      "clipping removes gru-mha's blow-ups (1 validation spike and 3 diverging instances without it, none with it) without hurting k = 20",
    );
    expect(page).toContain('without clipping, gru had no validation spike and no diverging test instance');
    expect(page).toMatch(/gru-mha \(clipping\) vs gru-mha at k = 20: median log10 gap ratio/);
  });

  it('clipping that is significantly worse at k = 20, or that leaves the blow-ups, is said so, and the verdicts stay on the paper protocol', () => {
    const worse = stabilityMarkdown(
      { agg: agg('stability-noclip', 1e-4, { 1: 2 }), validation: validation() },
      { agg: agg('stability-clip', 1e-3), validation: validation() },
      'clipping',
    );
    expect(worse).toContain("clipping removes gru-mha's blow-ups but is significantly worse at k = 20");
    expect(worse).toContain('The verdict figures stay on the paper');
    const stays = stabilityMarkdown(
      { agg: agg('stability-noclip', 1e-3, { 1: 2 }), validation: validation() },
      { agg: agg('stability-clip', 1e-3, { 2: 1 }), validation: validation() },
      'clipping',
    );
    expect(stays).toContain(
      "clipping does not remove gru-mha's blow-ups (with it 0 validation spikes and 1 diverging instance; without it 0 validation spikes and 2 diverging instances)",
    );
  });

  it('a training that stopped counts as a blow-up, and the settings are paired on the seeds both have a run for', () => {
    const clipped = agg('stability-clip', 1e-3);
    // Seed 1 of the clipped setting has no run: its gru training stopped on a non-finite loss.
    const four = (a: SeedAggregate): SeedAggregate => ({
      ...a,
      seeds: a.seeds.filter((s) => s !== 1),
      runs: a.runs.filter((r) => !r.endsWith('-1')),
      optimizers: a.optimizers.map((o) => ({ ...o, perSeed: o.perSeed!.filter((p) => p.seed !== 1) })),
    });
    const stopped = [
      { label: 'gru', seed: 1, message: "Meta-training of 'gru' diverged at global step 34: segment 3 gave loss 1.3e+24. Lower the learning rate." },
    ];
    const noclip = agg('stability-noclip', 1e-3);
    const page = stabilityMarkdown(
      { agg: noclip, validation: validation(), paired: four(noclip) },
      { agg: four(clipped), validation: validation(), stopped, paired: four(clipped) },
      'clipping',
    );
    expect(page).toContain('| gru | clipping | 4 | seed 1 (step 34) |');
    expect(page).toContain('| gru | paper protocol | 5 | none |');
    expect(page).toContain(
      'without clipping, gru had no blow-up, and with it 1 stopped training, 0 validation spikes and 0 diverging instances: clipping does not prevent them',
    );
    expect(page).toContain('## Paired comparisons (the same instances, with against without (on seeds 0, 2, 3, 4, those both settings have a run for))');
    expect(page).toMatch(/gru \(clipping\) vs gru at k = 20: median log10 gap ratio/);
  });
});
