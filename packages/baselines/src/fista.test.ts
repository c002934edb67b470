import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationPoint, selectEngine, tf } from '@l2o/core';
import { Lasso, LogisticL1 } from '@l2o/problems';
import { Fista } from './fista.js';
import { Ista } from './ista.js';
import { expectFlatTensorCount, expectInitCopiesX0, logisticSet, run, toyLasso } from './test-utils/instances.js';

const lasso = new Lasso();
const logistic = new LogisticL1();

describe.each(['cpu', 'wasm'] as const)('fista on %s', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  it.each([
    ['lasso 20×40, s = 5', lasso, toyLasso(4, 20, 40, 5, 1)],
    ['logistic-l1 60×10', logistic, logisticSet(3, 60, 10, 2)],
  ] as const)('solves %s to the KKT conditions within 1e-4', (_name, problem, set) => {
    const { kkt } = run(problem, new Fista(), set, 3000);
    for (const r of kkt) expect(r).toBeLessThan(1e-4);
  });
});

describe('fista', () => {
  beforeAll(async () => {
    await selectEngine('cpu');
  });

  it.each([
    ['lasso', lasso, toyLasso(4, 20, 40, 5, 1), 3000],
    ['logistic-l1', logistic, logisticSet(3, 60, 10, 2), 3000],
  ] as const)('agrees with ISTA on F* within 1e-5 relative on %s', (_name, problem, set, K) => {
    const fista = run(problem, new Fista(), set, K).F.at(-1)!;
    const ista = run(problem, new Ista(), set, 4 * K).F.at(-1)!;
    fista.forEach((f, i) => expect(Math.abs(f - ista[i]!) / Math.abs(f)).toBeLessThan(1e-5));
  });

  it('stays within its bound F(x_k) − F* ≤ 2L‖x₀ − x*‖²/(k+1)²', () => {
    const set = toyLasso(4, 20, 40, 5, 3);
    const reference = run(lasso, new Fista(), set, 5000);
    const fStar = reference.F.at(-1)!;
    const fista = run(lasso, new Fista(), set, 300);
    for (let i = 0; i < set.count; i++) {
      const distSq = reference.x.slice(i * set.n, (i + 1) * set.n).reduce((a, v) => a + v * v, 0); // x₀ = 0
      for (let k = 1; k <= 300; k++) {
        const bound = (2 * fista.L[i]! * distSq) / (k + 1) ** 2;
        // Slack: float32 rounding of F (≈1e-7 relative) and of x*, L (≈1e-5 relative).
        expect(fista.F[k]![i]! - fStar[i]!).toBeLessThanOrEqual(bound + 1e-5 * fStar[i]!);
      }
    }
  });

  it('reports F at x: the extrapolated point is kept as z, not y', () => {
    const set = toyLasso(1, 5, 6, 2, 4);
    const batch = lasso.toBatch(set);
    const fista = new Fista();
    const s0 = fista.init(lasso, batch);
    const s1 = fista.step(lasso, batch, s0);
    const s2 = fista.step(lasso, batch, s1);
    expect(s2.y).toBeUndefined();
    expect(evaluationPoint(s2)).toBe(s2.x);
    // t₁ = (1 + √5)/2, t₂ = (1 + √(1 + 4t₁²))/2, z₂ = x₂ + ((t₁ − 1)/t₂)(x₂ − x₁).
    const t1 = (1 + Math.sqrt(5)) / 2;
    const t2 = (1 + Math.sqrt(1 + 4 * t1 * t1)) / 2;
    expect(s1.t).toBeCloseTo(t1, 12);
    expect(s2.t).toBeCloseTo(t2, 12);
    const [x1, x2, z2] = [s1.x.dataSync(), s2.x.dataSync(), s2.z.dataSync()];
    z2.forEach((z, j) => expect(z).toBeCloseTo(x2[j]! + ((t1 - 1) / t2) * (x2[j]! - x1[j]!), 6));
    tf.dispose([s0.x, s0.z, s1.x, s1.z, s2.x, s2.z]);
    lasso.disposeBatch(batch);
  });

  it('keeps the tensor count flat over 50 steps', () => expectFlatTensorCount(new Fista()));
  it('copies x0 and checks its shape', () => expectInitCopiesX0(new Fista()));

  it('validates its options', () => {
    expect(new Fista().options).toEqual({ stepScale: 1 });
    expect(() => new Fista({ step: 1 })).toThrow(
      expect.objectContaining({ message: "Unknown option 'step' for optimizer 'fista'.", hint: 'Known options: stepScale.' }),
    );
    expect(() => new Fista({ stepScale: 0 })).toThrow(/Option 'stepScale' of optimizer 'fista' must be a finite number > 0, got 0/);
  });
});
