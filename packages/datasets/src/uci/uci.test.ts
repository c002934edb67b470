import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeReplacedState, selectEngine, tf } from '@l2o/core';
import { LogisticL1 } from '@l2o/problems';
import { Fista } from '@l2o/baselines';
import { createUciDataset } from './uci.js';
import { SHARED_DATASETS, tempContext } from '../test-utils/shared-data.js';

beforeAll(async () => {
  await selectEngine('cpu');
});

describe.each([
  ['ionosphere', 351, 34, 225, 126],
  ['spambase', 4601, 57, 1813, 2788],
] as const)('%s', (id, rows, columns, ones, zeros) => {
  const ctx = tempContext({ dataDir: SHARED_DATASETS });
  const load = () => createUciDataset(id).instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, ctx);

  it('has the right rows, columns, labels and standardised features', async () => {
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

  it('is solved by FISTA to the KKT tolerance', async () => {
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
});

describe('missing data', () => {
  it('explains both ways to provide the files', async () => {
    const ctx = tempContext();
    await expect(
      createUciDataset('spambase').instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, ctx),
    ).rejects.toThrow(expect.objectContaining({ message: 'Dataset spambase is not available locally.', hint: expect.stringMatching(/--data-dir.*l2o datasets fetch spambase/) }));
  });
});
