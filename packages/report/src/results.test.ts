import { describe, expect, it } from 'vitest';
import { computeLine } from './results.js';
import { geometricCurve, summaryFor } from './test-utils/curves.js';

describe("a figure page's measured time", () => {
  it('sums the evaluations and each training once per run (a safeguarded variant shares its plain model’s)', () => {
    const curves = [geometricCurve('lstm', 0.5), geometricCurve('fista', 0.6)];
    curves[0]!.seconds = 30;
    curves[1]!.seconds = 6;
    const run = (seed: number) => {
      const summary = summaryFor('fig2', curves, { seed });
      const [lstm, fista] = summary.optimizers;
      lstm!.trainingSeconds = 3600;
      // lstm-safe: the same checkpoint (its training time) evaluated with the safeguard on.
      summary.optimizers = [lstm!, { ...lstm!, label: 'lstm-safe', evaluationSeconds: 40 }, fista!];
      return { id: `r${seed}`, summary, curves };
    };
    expect(computeLine([run(0), run(1)])).toBe(
      'Measured time of its jobs, each on one core: 2 h 03 min (2 trainings 2 h 00 min, evaluations 2 min 32 s; a training another figure shares counts here too).',
    );
  });
});
