import { describe, expect, it } from 'vitest';
import { summarizeObjectives } from '@l2o/core';
import { curvesTable } from './format.js';

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
