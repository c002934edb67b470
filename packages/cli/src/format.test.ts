import { describe, expect, it } from 'vitest';
import { summarizeObjectives } from '@l2o/core';
import { curvesTable, trainedByText } from './format.js';

describe('curvesTable', () => {
  // Four instances, K = 10, F* = 1: three converge geometrically, one blows up from k = 5.
  const K = 10;
  const F = Float64Array.from([0.5, 0.4, 0.3, 2].flatMap((rate, i) => Array.from({ length: K + 1 }, (_, k) => (i === 3 && k >= 5 ? 1e40 : 1 + rate ** k))));
  const curve = { optimizer: 'lstm', ...summarizeObjectives(F, { count: 4, fStar: new Float64Array(4).fill(1) }, K) };

  it('says how many instances diverged and shows the median gap beside the mean', () => {
    const lines = curvesTable([curve]).split('\n');
    expect(lines[0]).toMatch(/^optimizer\s+k=0\s+k=10$/);
    expect(lines[1]).toMatch(/^lstm \(diverged on 1 of 4 instances\)\s+F 2\.0000\s+F \S+$/);
    // The median final gap: of 0.5^10, 0.4^10, 0.3^10 and ∞, halfway between 0.4^10 and 0.5^10.
    const median = (0.5 ** 10 + 0.4 ** 10) / 2;
    expect(lines[3]).toMatch(new RegExp(`^\\s+median 1\\.00e\\+0\\s+median ${median.toExponential(2).replace('+', '\\+')}$`));
  });

  it('keeps to the mean for curves without per-instance results (older runs)', () => {
    const lines = curvesTable([{ optimizer: 'ista', meanF: curve.meanF, meanGap: curve.meanGap, divergedAt: curve.divergedAt }]).split('\n');
    expect(lines[1]).toMatch(/^ista \(diverged at k=5\)/);
    expect(lines).toHaveLength(3);
  });
});

describe('trainedByText', () => {
  const commit = (c: string) => c.repeat(40);
  it('names the one commit of weights one process trained, or several sessions of one commit made', () => {
    expect(trainedByText({ commit: commit('a') })).toBe('commit aaaaaaa');
    const sessions = [
      { fromStep: 0, toStep: 100, seconds: 900, commit: commit('a') },
      { fromStep: 100, toStep: 500, seconds: 3600, commit: commit('a') },
    ];
    expect(trainedByText({ commit: commit('a'), sessions })).toBe('commit aaaaaaa');
  });

  it('gives each commit of a training resumed by other checkouts with the steps it made, consecutive sessions merged', () => {
    const sessions = [
      { fromStep: 0, toStep: 100, seconds: 2049 },
      { fromStep: 100, toStep: 142, seconds: 836, commit: commit('e') },
      { fromStep: 142, toStep: 500, seconds: 7000, commit: commit('e') },
      { fromStep: 500, toStep: 520, seconds: 400, commit: commit('f') },
    ];
    expect(trainedByText({ commit: commit('f'), sessions })).toBe('commits unknown commit (steps 0–100), eeeeeee (steps 100–500), fffffff (steps 500–520)');
  });
});
