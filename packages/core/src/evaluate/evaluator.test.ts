import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { tinyIsta, tinyLasso, tinyLassoSet } from '../test-utils/tiny.js';
import { evaluateOptimizer, iterationsToReach } from './evaluator.js';
import { solveReference } from './reference.js';
import { loadInstances, saveInstances } from '../io/instance-store.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-eval-'));
beforeAll(async () => {
  await selectEngine('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('evaluation protocol', () => {
  it('solves to the KKT tolerance and reports gaps against F*', async () => {
    const set = tinyLassoSet(10, 12, 20, 3, new Rng(1));
    const solution = await solveReference(tinyLasso, tinyIsta, set, { maxIterations: 20000, tolerance: 1e-5, checkEvery: 50, batchSize: 4 });
    expect(Math.max(...solution.kkt)).toBeLessThan(1e-5);
    set.fStar = solution.fStar;

    const before = tf.memory().numTensors;
    const curve = await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 200, batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(curve.meanF).toHaveLength(201);
    // ISTA is monotone, so its mean gap is non-increasing (up to float32 rounding) and positive.
    for (let k = 1; k <= 200; k++) expect(curve.meanGap[k]!).toBeLessThanOrEqual(curve.meanGap[k - 1]! + 1e-6);
    expect(curve.meanGap[200]!).toBeGreaterThan(-1e-5);
    // Mean F at k = 0 is F(0) = ½‖b‖² per instance.
    let expected = 0;
    for (let i = 0; i < set.count * set.m; i++) expected += 0.5 * set.b[i]! ** 2;
    expect(curve.meanF[0]!).toBeCloseTo(expected / set.count, 3);
    expect(curve.iterationsTo['0.01']).toBe(iterationsToReach(curve.meanGap, 1e-2));
  });

  it('leaves instances with F* = 0 out of the gap average', async () => {
    const set = tinyLassoSet(3, 6, 8, 2, new Rng(9));
    set.b.fill(0, 6, 12); // instance 1: b = 0, so x* = 0 and F* = 0
    set.fStar = (await solveReference(tinyLasso, tinyIsta, set, { maxIterations: 3000, tolerance: 1e-6, checkEvery: 50, batchSize: 3 })).fStar;
    expect(set.fStar[1]).toBe(0);
    const curve = await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 5, batchSize: 3 });
    expect(curve.gapInstances).toBe(2);
    expect(curve.meanGap.every(Number.isFinite)).toBe(true);
  });

  it('counts "never" for thresholds not reached', () => {
    expect(iterationsToReach([1, 0.5, 0.02], 1e-2)).toBeNull();
    expect(iterationsToReach([1, 0.5, 0.009], 1e-2)).toBe(2);
  });

  it('exports and re-imports instances with F* and a solution', async () => {
    const set = tinyLassoSet(3, 4, 6, 2, new Rng(2));
    set.fStar = Float64Array.from([1.5, 2.25, Math.PI]);
    const solution = new Rng(4).normals(18);
    const dir = path.join(temp, 'exported');
    await saveInstances(dir, set, solution);
    const back = loadInstances(dir);
    expect(Array.from(back.A)).toEqual(Array.from(set.A));
    expect(Array.from(back.b)).toEqual(Array.from(set.b));
    expect(Array.from(back.fStar!)).toEqual(Array.from(set.fStar));
    expect(Array.from(back.solution!)).toEqual(Array.from(solution));
    expect([back.count, back.m, back.n, back.lambda, back.sharedA]).toEqual([3, 4, 6, 0.1, false]);
    await expect(saveInstances(dir, set)).rejects.toThrow(); // never overwrites a folder
  });
});
