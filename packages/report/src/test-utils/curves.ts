import type { EvaluationCurve } from '@l2o/core';

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
