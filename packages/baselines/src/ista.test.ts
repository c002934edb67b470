import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine, tf } from '@l2o/core';
import { Lasso, LogisticL1 } from '@l2o/problems';
import { Ista } from './ista.js';
import { expectFlatTensorCount, expectInitCopiesX0, logisticSet, run, toyLasso } from './test-utils/instances.js';

describe.each(['cpu', 'wasm'] as const)('ista on %s', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  it.each([
    ['lasso', new Lasso(), toyLasso(4, 20, 40, 5, 3)],
    ['logistic-l1', new LogisticL1(), logisticSet(3, 60, 10, 5)],
  ] as const)('never increases F on %s', (_name, problem, set) => {
    const { F } = run(problem, new Ista(), set, 300);
    for (let k = 1; k < F.length; k++) {
      // ISTA with step ≤ 1/L decreases F; float32 rounding of F (≈1e-7 relative) is the only slack.
      F[k]!.forEach((f, i) => expect(f).toBeLessThanOrEqual(F[k - 1]![i]! * (1 + 1e-6)));
    }
    expect(F.at(-1)![0]!).toBeLessThan(F[0]![0]!);
  });
});

describe('ista', () => {
  beforeAll(async () => {
    await selectEngine('cpu');
  });

  it('takes the step prox(x − s∇f(x), s) with s = stepScale/L', () => {
    const lasso = new Lasso();
    const batch = lasso.toBatch(toyLasso(2, 5, 6, 2, 8));
    const ista = new Ista({ stepScale: 0.5 });
    const state = ista.init(lasso, batch);
    const next = ista.step(lasso, batch, state);
    const expected = tf.tidy(() => {
      const s = tf.reshape(tf.div(0.5, batch.L), [2, 1]);
      return lasso.prox(batch, tf.sub(state.x, tf.mul(s, lasso.grad(batch, state.x))), s).dataSync();
    });
    expect(Array.from(next.x.dataSync())).toEqual(Array.from(expected));
    tf.dispose([state.x, next.x]);
    lasso.disposeBatch(batch);
  });

  it('keeps the tensor count flat over 50 steps', () => expectFlatTensorCount(new Ista()));
  it('copies x0 and checks its shape', () => expectInitCopiesX0(new Ista()));

  it('validates its options', () => {
    expect(new Ista().options).toEqual({ stepScale: 1 });
    expect(() => new Ista({ stepScale: 'big' })).toThrow(/Option 'stepScale' of optimizer 'ista' must be a finite number > 0, got "big"/);
    expect(() => new Ista({ lr: 1 })).toThrow(/Unknown option 'lr' for optimizer 'ista'/);
  });
});
