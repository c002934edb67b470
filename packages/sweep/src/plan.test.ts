import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bootPlatform, comparisonJobs, UsageError } from '@l2o/core';
import { jobsNeeded, parseGridAxis, parseSeeds, planSweep } from './plan.js';
import { decodeResult, encodeResult } from './queue/connection.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-plan-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const platform = await bootPlatform({ backend: 'wasm', searchFrom: [repo], cacheDir: path.join(temp, 'cache') });
const spec = path.join(temp, 'spec.yaml');
writeFileSync(
  spec,
  `name: plantest
problem: { id: lasso }
test: { dataset: synthetic }
optimizers:
  - { id: lstm }
  - { id: gru-mha, label: mha }
  - { id: fista }
`,
);

describe('seeds and grids on the command line', () => {
  it('reads ranges and lists of seeds, and refuses the rest', () => {
    expect(parseSeeds('0..4')).toEqual([0, 1, 2, 3, 4]);
    expect(parseSeeds('0,3,7')).toEqual([0, 3, 7]);
    expect(parseSeeds('5')).toEqual([5]);
    expect(() => parseSeeds('4..0')).toThrow(UsageError);
    expect(() => parseSeeds('1,x')).toThrow(/not a list of seeds/);
    expect(() => parseSeeds('1,1')).toThrow(/seed 1 twice/);
  });

  it('takes seeds the store can keep, at most 10000 a sweep, checked before the list is made', () => {
    expect(parseSeeds('2147483640..2147483647')).toHaveLength(8);
    expect(() => parseSeeds('0..2147483648')).toThrow(/--seeds 0\.\.2147483648: each seed must be an integer from 0 to 2147483647 .*got 2147483648\./);
    expect(() => parseSeeds('99999999999999999999')).toThrow(/each seed must be an integer from 0 to 2147483647 .*got 99999999999999999999\./);
    const started = performance.now();
    const oneLine = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as UsageError).oneLine();
      }
      return 'no error';
    };
    expect(oneLine(() => parseSeeds('0..2147483647'))).toMatch(
      /gives 2147483648 seeds; a sweep takes at most 10000\. Split it into sweeps of at most 10000 seeds, e\.g\. --seeds 0\.\.9999, then --seeds 10000\.\.19999\./,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parseSeeds('0..9999')).toHaveLength(10_000);
    expect(() => parseSeeds('0..10000')).toThrow(/gives 10001 seeds/);
  });

  it('reads a grid axis with JSON values where they parse', () => {
    expect(parseGridAxis('gru-mha.heads=1,2,4')).toEqual({ target: 'gru-mha', key: 'heads', values: [1, 2, 4] });
    expect(parseGridAxis('lasso.lipschitz=tight,paper')).toEqual({ target: 'lasso', key: 'lipschitz', values: ['tight', 'paper'] });
    expect(parseGridAxis('gru-mha.attention.axis=history')).toEqual({ target: 'gru-mha', key: 'attention.axis', values: ['history'] });
    expect(() => parseGridAxis('heads=1,2')).toThrow(/<id>\.<option>=<v1>,<v2>/);
  });
});

describe('planSweep', () => {
  it('has one training per learned optimizer and seed, one evaluation per optimizer and seed, one run per seed', () => {
    const plan = planSweep(platform, { spec, scale: 'smoke', seeds: [0, 1], grid: [] });
    const kinds = plan.jobs.map((j) => j.kind);
    expect(kinds.filter((k) => k === 'train')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'evaluate')).toHaveLength(6);
    expect(kinds.filter((k) => k === 'run')).toHaveLength(2);
    // Every job comes after the jobs it needs.
    const seen = new Set<string>();
    for (const j of plan.jobs) {
      if (j.kind === 'evaluate' && j.train) expect(seen.has(j.train)).toBe(true);
      if (j.kind === 'run') for (const e of j.evaluations) expect(seen.has(e)).toBe(true);
      seen.add(j.key);
    }
    // Keys are those of the comparison run on its own (`l2o experiment run --seed 1`).
    const one = comparisonJobs(platform, plan.comparisons[1]!.comparison);
    expect(plan.comparisons[1]!.runId).toBe(one.runId);
    expect(plan.jobs.filter((j) => j.kind === 'train' && j.comparison.seed === 1).map((j) => j.key)).toEqual(
      one.optimizers.flatMap((o) => (o.train ? [o.train.key] : [])),
    );
    // The same request plans the same keys; another seed, other keys.
    expect(planSweep(platform, { spec, scale: 'smoke', seeds: [0, 1], grid: [] }).jobs.map((j) => j.key)).toEqual(plan.jobs.map((j) => j.key));
    expect(new Set(plan.jobs.map((j) => j.key)).size).toBe(plan.jobs.length);
  });

  it("without seeds, runs the spec's own seed (as `l2o sweep` without --seeds says)", () => {
    const seeded = path.join(temp, 'seeded.yaml');
    writeFileSync(seeded, `name: seeded\nproblem: { id: lasso }\ntest: { dataset: synthetic }\noptimizers:\n  - { id: fista }\nseed: 7\n`);
    const plan = planSweep(platform, { spec: seeded, scale: 'smoke', seeds: [], grid: [] });
    expect(plan.comparisons.map((c) => c.seed)).toEqual([7]);
    expect(plan.request.seeds).toEqual([7]);
    expect(planSweep(platform, { spec, scale: 'smoke', seeds: [], grid: [] }).comparisons.map((c) => c.seed)).toEqual([0]);
  });

  it('sets a grid axis on the optimizer it names and shares the trainings it does not change', () => {
    const plan = planSweep(platform, { spec, scale: 'smoke', seeds: [0], grid: [parseGridAxis('mha.attention.heads=1,2')] });
    expect(plan.comparisons.map((c) => c.point)).toEqual([{ 'mha.attention.heads': 1 }, { 'mha.attention.heads': 2 }]);
    expect(plan.comparisons.map((c) => c.comparison.optimizers[1]!.options)).toEqual([{ attention: { heads: 1 } }, { attention: { heads: 2 } }]);
    // lstm is trained once for both points; gru-mha once per point.
    const trainings = plan.jobs.filter((j) => j.kind === 'train').map((j) => (j.kind === 'train' ? j.label : ''));
    expect(trainings.sort()).toEqual(['lstm', 'mha', 'mha']);
    expect(plan.comparisons[0]!.runId).not.toBe(plan.comparisons[1]!.runId);
  });

  it('needs, for the runs not done, their evaluations and the trainings those read, shared ones included', () => {
    const plan = planSweep(platform, { spec, scale: 'smoke', seeds: [0], grid: [parseGridAxis('mha.attention.heads=1,2')] });
    const [first, second] = plan.jobs.filter((j) => j.kind === 'run');
    const trainOf = (label: string, run: typeof first) =>
      plan.jobs.find((j) => j.kind === 'evaluate' && run!.kind === 'run' && run!.evaluations.includes(j.key) && j.label === label)!;
    const [mha1 = '', mha2 = '', lstm = ''] = [trainOf('mha', first), trainOf('mha', second), trainOf('lstm', second)].map((e) =>
      e.kind === 'evaluate' ? e.train! : '',
    );
    expect(jobsNeeded(plan, () => false)).toEqual(new Set(plan.jobs.map((j) => j.key)));
    expect(jobsNeeded(plan, () => true).size).toBe(0);
    const needed = jobsNeeded(plan, (runId) => runId === first!.key);
    expect(second!.kind === 'run' && second!.evaluations.every((e) => needed.has(e))).toBe(true);
    expect([second!.key, mha2, lstm].every((k) => needed.has(k))).toBe(true);
    expect([first!.key, mha1].some((k) => needed.has(k))).toBe(false);
    expect(needed.size).toBe(1 + (second!.kind === 'run' ? second!.evaluations.length : 0) + 2);
  });

  it('sets an axis on the problem, and refuses a target that is neither', () => {
    const logistic = path.join(temp, 'logistic.yaml');
    writeFileSync(logistic, 'name: logistic\nproblem: { id: logistic-l1 }\ntest: { dataset: synthetic }\noptimizers:\n  - { id: lstm }\n');
    const plan = planSweep(platform, { spec: logistic, scale: 'smoke', seeds: [0], grid: [parseGridAxis('logistic-l1.lipschitz=tight,paper')] });
    expect(plan.comparisons.map((c) => c.comparison.problem.options)).toEqual([{ lipschitz: 'tight' }, { lipschitz: 'paper' }]);
    // The problem's options are part of how a model is trained: a training per point.
    expect(plan.jobs.filter((j) => j.kind === 'train')).toHaveLength(2);
    const refused = (() => {
      try {
        planSweep(platform, { spec, scale: 'smoke', seeds: [0], grid: [parseGridAxis('adam.lr=1')] });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(refused?.message).toBe("--grid adam.lr: 'adam' is neither an optimizer nor the problem of plantest.");
    expect(refused?.hint).toBe('Use one of: lstm, mha, fista, lasso.');
  });
});

describe('results kept in the store', () => {
  it('keep NaN and ±Infinity (a diverged curve) through JSON', () => {
    const value = { meanGap: [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5], nested: [{ x: -0 }] };
    const back = decodeResult<typeof value>(encodeResult(value));
    expect(back.meanGap).toEqual([1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5]);
    expect(back.nested).toEqual([{ x: 0 }]);
  });
});
