import { describe, expect, it } from 'vitest';
import { splitRollouts } from './calibrate.js';

describe('splitting timed rollouts into iterations and the batch made once', () => {
  // A batch of b costs 100 + 5b ms once (made, L, start state) and 2 + 0.5b ms per iteration.
  const once = (b: number) => 100 + 5 * b;
  const iteration = (b: number) => 2 + 0.5 * b;
  const rollout = (b: number, k: number): [number, number] => [b, once(b) + k * iteration(b)];

  it('recovers both from rollouts of one and of ten iterations at two batch sizes', () => {
    const split = splitRollouts([rollout(1, 1), rollout(16, 1)], [rollout(1, 10), rollout(16, 10)], 10);
    expect(split.iteration.map(([b, ms]) => [b, ms])).toEqual([
      [1, expect.closeTo(2.5, 12)],
      [16, expect.closeTo(10, 12)],
    ]);
    expect(split.once).toEqual([
      [1, expect.closeTo(105, 12)],
      [16, expect.closeTo(180, 12)],
    ]);
    // Dividing a 10-iteration rollout by 10, as a single timing would, counts a tenth of the
    // batch's own cost in every iteration: 28 ms per iteration at batch 16 instead of 10.
    expect(rollout(16, 10)[1] / 10).toBeCloseTo(28, 12);
  });

  it('counts everything as iteration when only one iteration was timed', () => {
    expect(splitRollouts([], [rollout(4, 1)], 1)).toEqual({ iteration: [rollout(4, 1)], once: [[4, 0]] });
  });

  it('never gives a negative time when noise makes the longer rollout the faster', () => {
    const split = splitRollouts([[1, 50]], [[1, 40]], 10);
    expect(split.iteration).toEqual([[1, 0]]);
    expect(split.once).toEqual([[1, 50]]);
  });
});
