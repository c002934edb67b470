import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/** A run's convergence curve of one optimizer: the mean relative gap per iteration. */
export interface Curve {
  optimizer: string;
  meanGap: number[];
}

/** The curves a run directory keeps, in the order of `labels`. */
export const curvesOf = (runDir: string, labels: readonly string[]): Curve[] =>
  labels.map((label) => JSON.parse(readFileSync(path.join(runDir, 'metrics', `${label}.json`), 'utf8')) as Curve);

/** Equal within float32 rounding of a few operations. */
export const expectCloseCurves = (actual: readonly Curve[], expected: readonly Curve[]) => {
  expect(actual.map((c) => c.optimizer)).toEqual(expected.map((c) => c.optimizer));
  actual.forEach((c, j) =>
    c.meanGap.forEach((g, k) => expect(Math.abs(g - expected[j]!.meanGap[k]!)).toBeLessThanOrEqual(1e-5 * Math.abs(expected[j]!.meanGap[k]!) + 1e-9)),
  );
};
