import { describe, expect, it } from 'vitest';
import { computeLine, keptWeightsLines, protocolLines, skippedLines } from './results.js';
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

describe("a figure page's protocol", () => {
  const training = {
    globalSteps: 500,
    batchSize: 64,
    iterations: 100,
    unroll: 20,
    learningRate: 0.01,
    validateEvery: 20,
    validationSize: 1024,
    validationIterations: 100,
    microBatch: 0,
    onNonFinite: 'skip',
    seed: 0,
  };
  const run = (seed: number, over: Record<string, unknown> = {}) => {
    const curves = [geometricCurve('lstm', 0.5)];
    return { id: `r${seed}`, summary: summaryFor('fig1', curves, { seed, testInstances: 1024, training: { ...training, seed, ...over } }), curves };
  };

  it('says what the runs were trained and tested with, stabilisers and other settings included, and the deviations the spec states', () => {
    const lines = protocolLines([run(0, { onNonFiniteValidation: 'not-best' }), run(1, { onNonFiniteValidation: 'not-best' })], {
      spec: 'experiments/paper/fig1.yaml',
      items: ['Non-finite steps are skipped.'],
    });
    expect(lines).toEqual([
      'Protocol: meta-trained 500 global steps of 64 instances (K = 100 in segments of 20), Adam 0.01, validated every 20 steps on 1024 instances (100 iterations), on a non-finite loss skip, onNonFiniteValidation not-best; tested on 1024 instances for 20 iterations.',
      '',
      "Deviations from the papers' protocol (stated in experiments/paper/fig1.yaml):",
      '',
      '- Non-finite steps are skipped.',
      '',
    ]);
  });

  it('says when the seeds were trained with different settings (the seed and the micro-batch are not settings)', () => {
    expect(protocolLines([run(0), run(1, { microBatch: 16 })])[0]).not.toContain('differ');
    expect(protocolLines([run(0), run(1, { globalSteps: 200 })])[0]).toMatch(/\(the seeds’ training settings differ: see data\/\)\.$/);
  });
});

describe("a figure page's skipped steps", () => {
  const run = (onNonFinite: string) => {
    const curves = [geometricCurve('lstm', 0.5)];
    return { id: 'r', summary: summaryFor('fig1', curves, { training: { onNonFinite } }), curves };
  };
  const series = (label: string, seed: number, skipped?: number[]) => ({ label, seed, points: [{ step: 20, loss: 1 }], ...(skipped ? { skipped } : {}) });
  const none = (label: string, seed: number) => series(label, seed, []);

  it('names each training that skipped steps, with how many and which', () => {
    expect(skippedLines([run('skip')], [series('lstm', 0, [51, 120, 121, 123]), none('gru', 0), series('lstm', 1, [1, 2, 3, 4, 5, 6, 7, 8, 9])])).toEqual([
      'Steps skipped on a non-finite loss (the weights and Adam state before each restored): lstm seed 0: 4 (steps 51, 120, 121, 123); lstm seed 1: 9 (steps 1, 2, 3, 4, 5, 6, 7, 8, …).',
      '',
    ]);
  });

  it('says that a skip rule never acted, and nothing when there is no such rule or a log was not read for it', () => {
    expect(skippedLines([run('skip')], [none('lstm', 0), none('gru', 0)])).toEqual(['No training skipped a step: the non-finite rule never acted.', '']);
    expect(skippedLines([run('stop')], [none('lstm', 0)])).toEqual([]);
    // Kept before the logs were read for skipped steps: not known, nothing said.
    expect(skippedLines([run('skip')], [none('lstm', 0), series('gru', 0)])).toEqual([]);
  });
});

describe("a figure page's tested weights", () => {
  const run = (seed: number, globalSteps = 500) => {
    const curves = [geometricCurve('lstm', 0.5)];
    return { id: `r${seed}`, summary: summaryFor('fig1', curves, { seed, training: { globalSteps } }), curves };
  };
  const series = (label: string, seed: number, losses: number[]) => ({ label, seed, points: losses.map((loss, i) => ({ step: 20 * (i + 1), loss })) });

  it('names the step of each best validation, the first of equal ones, non-finite ones never best', () => {
    const lines = keptWeightsLines(
      [run(0, 120), run(1, 120)],
      [series('lstm', 1, [4, 3, 3, 3.5]), series('lstm', 0, [Number.NaN, 5, Number.POSITIVE_INFINITY, 3, 3.2, 2.9]), series('gru', 0, [4, 3.9])],
    );
    expect(lines).toEqual(["The weights tested are each training's best validation, from the step: lstm 120, 40 (seeds 0, 1); gru 40 (seed 0).", '']);
    // In the figure's order of optimizers when given.
    expect(keptWeightsLines([run(0, 120)], [series('lstm', 0, [4, 3]), series('gru', 0, [4])], ['fista', 'gru', 'lstm'])[0]).toMatch(
      /step: gru 20 \(seed 0\); lstm 40/,
    );
  });

  it('flags a training whose best came in the first fifth of its steps (100 of 500 here), not one just after', () => {
    const [line] = keptWeightsLines(
      [run(0), run(1)],
      [series('gru-mha', 0, [3.86, 1e33, 6.6, 3.98]), series('gru-mha', 1, [...Array<number>(5).fill(4), 3.9])],
    );
    expect(line).toBe(
      "The weights tested are each training's best validation, from the step: gru-mha 20, 120 (seeds 0, 1). " +
        'Best in the first fifth of the budget, so tested barely trained (no later validation came below it): gru-mha seed 0 (step 20 of 500).',
    );
    expect(keptWeightsLines([run(0)], [series('gru', 0, [4, 3.9, 3.8, 3.7, 3.65, 3.6])])[0]).not.toContain('first fifth');
  });

  it('says nothing without a finite validation', () => {
    expect(keptWeightsLines([run(0)], [series('lstm', 0, [Number.NaN])])).toEqual([]);
  });
});
