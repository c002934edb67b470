import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeReplacedState, selectEngine, tf } from '@l2o/core';
import type { Dataset, DatasetContext } from '@l2o/core';
import { LogisticL1 } from '@l2o/problems';
import { Fista } from '@l2o/baselines';
import { createUciDataset } from './uci.js';
import { FIXTURES, fixtureIonosphere, fixtureSpambase, fullData, tempContext } from '../test-utils/shared-data.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

const loader = (dataset: Dataset, ctx: DatasetContext) => () =>
  dataset.instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, ctx);

/** Rows, columns, label counts, standardisation, and FISTA reaching the KKT tolerance. */
function checks(load: ReturnType<typeof loader>, [rows, columns, ones, zeros]: readonly [number, number, number, number], skip = false) {
  it.skipIf(skip)('has the right rows, columns, labels and standardised features', async () => {
    const set = await load();
    expect([set.count, set.m, set.n, set.lambda]).toEqual([1, rows, columns, 0.1]);
    const positives = set.b.reduce((a, v) => a + v, 0);
    expect([positives, rows - positives]).toEqual([ones, zeros]);
    for (let c = 0; c < columns; c++) {
      let mean = 0;
      let sq = 0;
      for (let r = 0; r < rows; r++) mean += set.A[r * columns + c]!;
      mean /= rows;
      for (let r = 0; r < rows; r++) sq += (set.A[r * columns + c]! - mean) ** 2;
      const std = Math.sqrt(sq / rows);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      // Ionosphere's second column is constant (all 0): it is centred and keeps std 0.
      expect(std < 1e-6 || Math.abs(std - 1) < 1e-4).toBe(true);
    }
  });

  it.skipIf(skip)('is solved by FISTA to the KKT tolerance', async () => {
    const set = await load();
    const problem = new LogisticL1();
    const batch = problem.toBatch(set);
    const fista = new Fista();
    let state = fista.init(problem, batch);
    for (let k = 0; k < 3000; k++) {
      const next = tf.tidy(() => fista.step(problem, batch, state));
      disposeReplacedState(state, next);
      state = next;
    }
    const kkt = tf.tidy(() => problem.kktResidual(batch, state.x)).dataSync()[0]!;
    expect(kkt).toBeLessThan(1e-4);
    problem.disposeBatch(batch);
  });
}

// Always: the fixtures, excerpts read through sources with their own checksums. Ionosphere's is
// a 60-row sample (30 of each label); Spambase's is a 200-row sample (100 of each label).
describe('ionosphere (fixture: 60-row sample)', () => {
  checks(loader(createUciDataset('ionosphere', fixtureIonosphere()), tempContext({ dataDir: FIXTURES })), [60, 34, 30, 30]);
});

describe('spambase (fixture: 200-row sample)', () => {
  checks(loader(createUciDataset('spambase', fixtureSpambase()), tempContext({ dataDir: FIXTURES })), [200, 57, 100, 100]);
});

// With the full data (L2O_DATA_DIR or ../shared/datasets): the official files, all rows.
describe.each([
  ['ionosphere', [351, 34, 225, 126]],
  ['spambase', [4601, 57, 1813, 2788]],
] as const)('%s (full data)', (id, counts) => {
  const dir = fullData(id);
  checks(loader(createUciDataset(id), tempContext({ dataDir: dir })), counts, !dir);
});

describe('missing data', () => {
  it('explains both ways to provide the files', async () => {
    const ctx = tempContext();
    await expect(
      createUciDataset('spambase').instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, ctx),
    ).rejects.toThrow(
      expect.objectContaining({
        message: 'Dataset spambase is not available locally.',
        hint: expect.stringMatching(/--data-dir.*l2o datasets fetch spambase/),
      }),
    );
  });
});
