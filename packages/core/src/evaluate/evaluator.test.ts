import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { selectEngine } from '../engine/engine.js';
import { Rng } from '../random/rng.js';
import { tinyIsta, tinyLasso, tinyLassoSet } from '../test-utils/tiny.js';
import {
  DIVERGENCE_FLOOR,
  divergedUnderCurrentRule,
  diverges,
  evaluateOptimizer,
  instanceMetrics,
  iterationsToReach,
  perInstanceGaps,
  summarizeObjectives,
  type EvaluationCurve,
  type PartialEvaluation,
  type PartialEvaluationStore,
  type PerInstanceResults,
} from './evaluator.js';
import { partialEvaluationFile, partialEvaluationProgress } from './partial-file.js';
import type { InstanceSet } from '../contracts/instances.js';
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

describe('per-instance results', () => {
  // F per instance and iteration, instance-major [count, K + 1], with F* = 1 for each instance.
  const K = 4;
  const rows = [
    [3, 2, 1.5, 1.1, 1.001], // converges: gaps 2, 1, 0.5, 0.1, 1e-3
    [3, 2.5, 2, 1.9, 1.8], // converges slowly
    [3, 1.0001, 1.000001, 2, 1.5], // rises 1e6× above its best (1e-6 → 1): diverges, though it ends below its start
    [3, 4, 5, 6, 7], // ends above its start: diverges
    [3, 2, Number.NaN, Number.NaN, Number.NaN], // not finite: diverges
  ];
  const F = Float64Array.from(rows.flat());
  const set = { count: rows.length, fStar: new Float64Array(rows.length).fill(1) };
  const curve = summarizeObjectives(F, set, K);

  it('keeps each instance its gaps at the kept iterations, iterations to each threshold, and which diverged', () => {
    expect(curve.perInstance!.at).toEqual([0, K]);
    expect(curve.perInstance!.gaps[1]!.map((g) => Number(g!.toPrecision(6)))).toEqual([1e-3, 0.8, 0.5, 6, Number.POSITIVE_INFINITY]);
    // Through JSON (non-finite values as null) the same gaps come back.
    const read = perInstanceGaps(JSON.parse(JSON.stringify(curve.perInstance)) as PerInstanceResults);
    expect(read[1]![4]).toBe(Number.POSITIVE_INFINITY);
    expect(read.map((row) => row.slice(0, 4))).toEqual(curve.perInstance!.gaps.map((row) => row.slice(0, 4)));
    expect(curve.perInstance!.iterationsTo['0.01']).toEqual([4, null, 1, null, null]);
    expect(curve.perInstance!.iterationsTo['0.0001']).toEqual([null, null, 1, null, null]);
    expect(curve.perInstance!.diverged).toEqual([2, 3, 4]);
    expect(curve.perInstance!.divergenceFloor).toBe(DIVERGENCE_FLOOR);
  });

  it('re-counts diverged instances of an older rule where the kept gaps decide it', () => {
    const older = {
      at: [0, 10, 100],
      iterationsTo: {},
      gaps: [
        [1, 1, 1, 1],
        [1e-9, 1e-2, 1e-6, null],
        [1e-7, 1e-7, 0.5, 2],
      ],
    };
    // Instance 0: a ripple (1e-9 → 1e-7) the old floor of 1e-8 counted; 2 rose from 1e-6 to 0.5; 3 ended above its start.
    expect(divergedUnderCurrentRule({ ...older, diverged: [2, 3] })).toEqual([2, 3]);
    expect(divergedUnderCurrentRule({ ...older, diverged: [0, 2, 3] })).toBeNull();
    expect(divergedUnderCurrentRule({ ...older, diverged: [] })).toEqual([]);
    // Counted under this rule: as counted.
    expect(divergedUnderCurrentRule({ ...older, diverged: [0], divergenceFloor: DIVERGENCE_FLOOR })).toEqual([0]);
    expect(divergedUnderCurrentRule({ ...older, diverged: [0], divergenceFloor: 1e-5 })).toBeNull();
  });

  it('summarizes the instances beside the mean: the median final gap and how many diverged', () => {
    // Final gaps 1e-3, 0.8, 0.5, 6, ∞: the median is 0.8; instances 2, 3 and 4 diverged.
    expect(instanceMetrics(curve)).toEqual({ medianFinalGap: expect.closeTo(0.8, 12), divergedInstances: 3, gapInstances: 5 });
    // As a run's JSON reads back (a median that diverged is null there).
    const read = JSON.parse(JSON.stringify({ ...curve, gapQuantiles: [[0, 0, Number.POSITIVE_INFINITY, 0, 0]] })) as typeof curve;
    expect(instanceMetrics(read).medianFinalGap).toBe(Number.POSITIVE_INFINITY);
    expect(instanceMetrics({ gapInstances: 5 })).toEqual({});
  });

  it('quantiles per iteration rank a non-finite gap above every finite one; the mean stays the mean', () => {
    // k = 4: gaps 1e-3, 0.5, 0.8, 6, NaN → sorted 1e-3, 0.5, 0.8, 6, ∞; median 0.8.
    expect(curve.gapQuantiles![K]![2]).toBeCloseTo(0.8, 12);
    expect(curve.gapQuantiles![K]![0]).toBeCloseTo(1e-3 + 0.4 * (0.5 - 1e-3), 12);
    expect(curve.gapQuantiles![0]).toEqual([2, 2, 2, 2, 2]);
    expect(Number.isFinite(curve.meanGap[K])).toBe(false);
    expect(curve.meanGap[1]).toBeCloseTo((1 + 1.5 + 0.0001 + 3 + 1) / 5, 12);
  });

  it('instances without F* (F* = 0) have no gap, are not counted as diverged, and reach no threshold', () => {
    const withZero = summarizeObjectives(F, { count: rows.length, fStar: Float64Array.from([1, 0, 1, 1, 1]) }, K);
    expect(withZero.gapInstances).toBe(4);
    expect(withZero.perInstance!.iterationsTo['0.01']![1]).toBeNull();
    expect(withZero.perInstance!.diverged).toEqual([2, 3, 4]);
    expect(Number.isNaN(withZero.perInstance!.gaps[0]![1])).toBe(true);
  });

  it('a mean F beyond float32’s range is divergence, though float64 holds it (as the engine’s float32 F overflowed before)', () => {
    const blown = summarizeObjectives(Float64Array.from([3, 1e60, 1e61]), { count: 1, fStar: new Float64Array([1]) }, 2);
    expect(blown.divergedAt).toBe(1);
    expect(summarizeObjectives(Float64Array.from([3, 2, 1e30]), { count: 1, fStar: new Float64Array([1]) }, 2).divergedAt).toBeNull();
  });

  it('counts the instances whose F is not finite or beyond float32 at some iteration, and says nothing when there are none', () => {
    // Four instances, K = 2: NaN at k = 1, beyond float32 at k = 2, finite, +Infinity at k = 2.
    const mixed = Float64Array.from([3, Number.NaN, 1, 3, 2, 1e39, 3, 2, 1, 3, 2, Number.POSITIVE_INFINITY]);
    expect(summarizeObjectives(mixed, { count: 4 }, 2).nonFiniteInstances).toBe(3);
    expect(summarizeObjectives(Float64Array.from([3, 2, 1e30]), { count: 1 }, 2)).not.toHaveProperty('nonFiniteInstances');
  });

  it('diverges: a blow-up is, a ripple near F* is not', () => {
    expect(diverges([1, 1e-9, 1e-12, 5e-9])).toBe(false);
    // Below DIVERGENCE_FLOOR (1e-3) a rise must reach 100 × 1e-3 = 0.1.
    expect(diverges([1, 1e-6, 1e-4 + 1e-7])).toBe(false);
    expect(diverges([1, 1e-6, 0.09, 1e-6])).toBe(false);
    expect(diverges([1, 1e-6, 0.11, 1e-6])).toBe(true);
    // Above it, 100× its running best.
    expect(diverges([1, 2e-3, 0.19])).toBe(false);
    expect(diverges([1, 2e-3, 0.21])).toBe(true);
    expect(diverges([1, 0.5, 1.0000001])).toBe(true);
    expect(diverges([1, 1e-3, Number.POSITIVE_INFINITY, 1e-3])).toBe(true);
  });

  it('diverges: FISTA, which converges, rises 100× above its best near F* but does not diverge', () => {
    // FISTA in float64 on LASSO instances (20×40, s = 5, λ = 0.1), F* from 5,000 of its iterations.
    const count = 24;
    const [m, n] = [20, 40];
    const set = tinyLassoSet(count, m, n, 5, new Rng(7));
    const riseFrom1e8 = (gaps: number[]) => {
      let best = Number.POSITIVE_INFINITY;
      return gaps.some((g) => {
        const risen = Math.max(g, 1e-8) > 100 * best;
        best = Math.min(best, Math.max(g, 1e-8));
        return risen;
      });
    };
    let ripples = 0;
    for (let i = 0; i < count; i++) {
      const A = Float64Array.from(set.A.subarray(i * m * n, (i + 1) * m * n));
      const b = Float64Array.from(set.b.subarray(i * m, (i + 1) * m));
      const F = fistaObjectives(A, b, m, n, set.lambda, 5000);
      const fStar = Math.min(...F);
      const gaps = F.slice(0, 301).map((f) => (f - fStar) / fStar);
      expect(diverges(gaps)).toBe(false);
      if (riseFrom1e8(gaps)) ripples++;
    }
    // The rule before DIVERGENCE_FLOOR was 1e-3 (floor 1e-8) counted these ripples as divergence.
    expect(ripples).toBeGreaterThan(0);
  });
});

describe('perInstanceGaps', () => {
  it('after JSON, an instance without a starting gap has none; any other missing gap is +Infinity', () => {
    expect(
      perInstanceGaps({
        gaps: [
          [1, null, 2],
          [0.5, null, null],
        ],
      }),
    ).toEqual([
      [1, Number.NaN, 2],
      [0.5, Number.NaN, Number.POSITIVE_INFINITY],
    ]);
  });
});

/** F(x_k), k = 0..K, of FISTA (step 1/L, L by power iteration) from x = 0 on 0.5‖Ax − b‖² + λ‖x‖₁, in float64. */
function fistaObjectives(A: Float64Array, b: Float64Array, m: number, n: number, lambda: number, K: number): number[] {
  const Ax = (x: Float64Array) => Float64Array.from({ length: m }, (_, r) => x.reduce((acc, v, j) => acc + A[r * n + j]! * v, 0));
  const Atr = (r: Float64Array) => Float64Array.from({ length: n }, (_, j) => r.reduce((acc, v, i) => acc + A[i * n + j]! * v, 0));
  let v: Float64Array = new Float64Array(n).fill(1);
  let L = 0;
  for (let t = 0; t < 300; t++) {
    const w = Atr(Ax(v));
    L = Math.hypot(...w) / Math.hypot(...v);
    v = w.map((x) => x / L);
  }
  const F = (x: Float64Array) => 0.5 * Ax(x).reduce((acc, v, i) => acc + (v - b[i]!) ** 2, 0) + lambda * x.reduce((acc, v) => acc + Math.abs(v), 0);
  let x = new Float64Array(n);
  let y = new Float64Array(n);
  let t = 1;
  const out = [F(x)];
  for (let k = 0; k < K; k++) {
    const g = Atr(Ax(y).map((v, i) => v - b[i]!));
    const z = y.map((v, j) => v - g[j]! / L);
    const next = z.map((v) => Math.sign(v) * Math.max(Math.abs(v) - lambda / L, 0));
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    y = next.map((v, j) => v + ((t - 1) / tNext) * (v - x[j]!));
    x = next;
    t = tNext;
    out.push(F(x));
  }
  return out;
}

describe('an interrupted evaluation', () => {
  // 10 instances in batches of 3: batches start at 0, 3, 6, 9.
  async function solvedSet(): Promise<InstanceSet> {
    const set = tinyLassoSet(10, 6, 8, 2, new Rng(5));
    set.fStar = (await solveReference(tinyLasso, tinyIsta, set, { maxIterations: 3000, tolerance: 1e-6, checkEvery: 50, batchSize: 5 })).fStar;
    return set;
  }
  /** A store in memory, as partialEvaluationFile keeps it in a file. */
  function memoryStore(): PartialEvaluationStore & { kept?: PartialEvaluation } {
    const store: PartialEvaluationStore & { kept?: PartialEvaluation } = {
      load: () => store.kept && { ...store.kept, F: store.kept.F.slice(), accepted: store.kept.accepted?.slice() ?? null },
      save: (p) => void (store.kept = { ...p, F: p.F.slice(), accepted: p.accepted?.slice() ?? null }),
    };
    return store;
  }
  const numbers = (c: EvaluationCurve) => ({ ...c, seconds: 0 });

  it('continues after its finished batches, to the curve of an uninterrupted one, bit for bit', async () => {
    const set = await solvedSet();
    const whole = await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 30, batchSize: 3 });
    const store = memoryStore();
    const stop = new AbortController();
    const first = evaluateOptimizer(tinyLasso, tinyIsta, set, {
      iterations: 30,
      batchSize: 3,
      partial: store,
      signal: stop.signal,
      onProgress: (done) => done >= 6 && stop.abort('SIGINT'),
    });
    await expect(first).rejects.toThrow(/Interrupted/);
    expect(store.kept?.done).toBe(6);
    const atInterruption = store.kept!.seconds;
    const progress: number[] = [];
    const before = tf.memory().numTensors;
    const resumed = await evaluateOptimizer(tinyLasso, tinyIsta, set, {
      iterations: 30,
      batchSize: 3,
      partial: store,
      onProgress: (done) => progress.push(done),
    });
    expect(tf.memory().numTensors).toBe(before);
    // Only the last two batches ran; the first report is of the kept ones.
    expect(progress).toEqual([6, 9, 10]);
    expect(numbers(resumed)).toEqual(numbers(whole));
    // Its time is that of both processes.
    expect(resumed.seconds).toBeGreaterThan(atInterruption);
    // Finished: the store holds the whole set, and an evaluation with it runs no batch.
    expect(store.kept?.done).toBe(10);
    progress.length = 0;
    const again = await evaluateOptimizer(tinyLasso, tinyIsta, set, {
      iterations: 30,
      batchSize: 3,
      partial: store,
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([10]);
    expect(numbers(again)).toEqual(numbers(whole));
  });

  it('starts over when the kept batches do not fit (another batch size or K)', async () => {
    const set = await solvedSet();
    const store = memoryStore();
    await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 30, batchSize: 3, partial: store });
    store.kept = { ...store.kept!, done: 6, F: store.kept!.F.slice(0, 6 * 31) };
    const progress: number[] = [];
    await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 30, batchSize: 4, partial: store, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([4, 8, 10]);
    store.kept = { ...store.kept, done: 6, F: store.kept.F.slice(0, 6 * 31) };
    progress.length = 0;
    await evaluateOptimizer(tinyLasso, tinyIsta, set, { iterations: 20, batchSize: 3, partial: store, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([3, 6, 9, 10]);
  });
});

describe('partialEvaluationFile', () => {
  const kept: PartialEvaluation = {
    done: 2,
    instances: 4,
    F: Float64Array.from([1, 0.5, Number.POSITIVE_INFINITY, 1e-300, Number.NaN, 2]),
    accepted: null,
    seconds: 1.5,
  };

  it('keeps the batches exactly (non-finite values too), for the same identity only', () => {
    const file = path.join(temp, 'partial', 'a.partial.json');
    const identity = { weights: 'abc', engine: 'cpu', instances: 10 };
    partialEvaluationFile(file, identity).save({ ...kept, accepted: Float64Array.from([3, 2]) });
    const read = partialEvaluationFile(file, { ...identity }).load()!;
    expect(read).toEqual({ ...kept, accepted: Float64Array.from([3, 2]) });
    expect(Object.is(read.F[4], Number.NaN)).toBe(true);
    expect(partialEvaluationFile(file, { ...identity, weights: 'abd' }).load()).toBeUndefined();
    // How far it got, whatever it was evaluated with (l2o campaign status reports it).
    expect(partialEvaluationProgress(file)).toEqual({ done: 2, instances: 4, seconds: 1.5 });
    // A subarray is kept as itself, not as its whole buffer.
    const whole = Float64Array.from([9, 9, ...kept.F]);
    partialEvaluationFile(file, identity).save({ ...kept, F: whole.subarray(2) });
    expect(partialEvaluationFile(file, identity).load()!.F).toEqual(kept.F);
  });

  it('a file that cannot be written is said once, and the evaluation goes on', () => {
    // Its folder is a file: every write fails.
    const blocker = path.join(temp, 'partial', 'blocker');
    writeFileSync(blocker, '');
    const warnings: string[] = [];
    const store = partialEvaluationFile(path.join(blocker, 'c.partial.json'), {}, (line) => warnings.push(line));
    store.save(kept);
    store.save({ ...kept, done: 3 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the evaluation's finished batches cannot be kept in .*c\.partial\.json \(.+\); interrupted, it would start over\.$/);
    expect(store.load()).toBeUndefined();
  });

  it('reads an unreadable file as nothing kept, and removes it', () => {
    const file = path.join(temp, 'partial', 'b.partial.json');
    const store = partialEvaluationFile(file, {});
    store.save(kept);
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    expect(store.load()).toBeUndefined();
    expect(partialEvaluationProgress(file)).toBeUndefined();
    store.remove();
    expect(existsSync(file)).toBe(false);
    expect(store.load()).toBeUndefined();
  });
});
