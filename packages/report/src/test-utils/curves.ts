import type { EvaluationCurve, OptimizerSummary, RunSummary } from '@l2o/core';

/**
 * A made-up evaluation curve for report tests: the gap falls as rate^k over `iterations`
 * iterations (F = 1 + gap), and is NaN from `divergeAt` on.
 */
export function geometricCurve(optimizer: string, rate: number, options: { iterations?: number; divergeAt?: number } = {}): EvaluationCurve {
  const { iterations = 20, divergeAt } = options;
  const meanGap = Array.from({ length: iterations + 1 }, (_, k) => (divergeAt !== undefined && k >= divergeAt ? Number.NaN : rate ** k));
  return {
    optimizer,
    instances: 4,
    gapInstances: 4,
    meanF: meanGap.map((g) => 1 + g),
    meanGap,
    finalGap: meanGap.at(-1)!,
    iterationsTo: { '0.01': null, '0.001': null, '0.0001': null },
    divergedAt: divergeAt ?? null,
    seconds: 0.5,
  };
}

/**
 * A run's summary around made-up curves (lasso on synthetic, smoke scale, seed 0, cpu engine,
 * every optimizer a baseline with F = 1 + gap); `over` replaces run fields, `extra` adds to each
 * optimizer's entry.
 */
export function summaryFor(
  name: string,
  curves: readonly EvaluationCurve[],
  over: Partial<RunSummary> = {},
  extra: Partial<OptimizerSummary> = {},
): RunSummary {
  return {
    name,
    problem: { id: 'lasso', options: {} },
    trainDataset: { id: 'synthetic', options: {} },
    testDataset: { id: 'synthetic', options: {} },
    testInstances: 4,
    iterations: (curves[0]?.meanGap.length ?? 1) - 1,
    scale: 'smoke',
    seed: 0,
    engine: 'cpu',
    training: {},
    optimizers: curves.map((c) => ({
      label: c.optimizer,
      id: c.optimizer,
      kind: 'baseline',
      options: {},
      finalGap: c.finalGap,
      finalF: 1 + c.finalGap,
      iterationsTo: c.iterationsTo,
      divergedAt: c.divergedAt,
      evaluationSeconds: c.seconds,
      ...extra,
    })),
    createdAt: '2026-11-29T00:00:00.000Z',
    ...over,
  };
}
