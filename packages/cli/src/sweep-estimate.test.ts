import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { args, expectOneLineError, runCli } from './test-utils/run-cli.js';
import { tinySpec } from './test-utils/tiny-spec.js';

// The cost estimate of `--dry-run`, as a user runs it: timings of this machine measured once per
// cache dir and reused; bad input refused before anything is timed.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-estimate-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const spec = path.join(temp, 'estimate.yaml');
writeFileSync(spec, tinySpec('estimatecli', 2, { iterations: 20, unroll: 10, testIterations: 30, train: false }));
const cache = path.join(temp, 'cache');
const calibrationFile = path.join(cache, 'calibration.json');

interface Estimate {
  seconds: number;
  perJob: { kind: string; label?: string; seed: number; seconds: number; cached: boolean }[];
  calibration: { calibrated: number; reused: number; engine: string; machine: string; method: string };
}

describe('l2o sweep --dry-run estimates the wall time', () => {
  it('calibrates at the plan’s sizes, then reuses the timings', () => {
    const first = runCli(args`sweep ${spec} --scale smoke --seeds 0..1 --workers 2 --cache-dir ${cache} --dry-run --json`);
    expect(first.code, first.stderr).toBe(0);
    const { estimate } = JSON.parse(first.stdout) as { estimate: Estimate };
    expect(estimate.seconds).toBeGreaterThan(0);
    // Two trainings, four evaluations, two reference solves, two runs.
    expect(estimate.perJob.map((j) => j.kind).sort()).toEqual([
      'evaluate',
      'evaluate',
      'evaluate',
      'evaluate',
      'reference',
      'reference',
      'run',
      'run',
      'train',
      'train',
    ]);
    expect(estimate.perJob.filter((j) => j.kind !== 'run').every((j) => j.seconds > 0 && !j.cached)).toBe(true);
    // lstm's segment, validation and iteration, fista's iteration, the reference solve, a job process's start.
    expect(estimate.calibration).toMatchObject({ calibrated: 6, reused: 0 });
    expect(existsSync(calibrationFile)).toBe(true);
    // The reference solve is timed to the iteration cap (smoke's 2,000), where a test set's batches
    // stop, not to the tolerance that the few instances timed may meet early.
    const { entries } = JSON.parse(readFileSync(calibrationFile, 'utf8')) as { entries: Record<string, { kind: string; iterations?: number }> };
    expect(Object.values(entries).filter((e) => e.kind === 'reference')).toMatchObject([{ iterations: 2000 }]);

    const again = runCli(args`sweep ${spec} --scale smoke --seeds 0..1 --workers 2 --cache-dir ${cache} --dry-run`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/calibrating/);
    expect(again.stdout).toMatch(/estimated wall time: [\d.]+ s on 2 worker processes/);
    expect(again.stdout).toMatch(/calibration: 6 timings reused from .*calibration\.json \(nothing timed now\)/);
  });

  it('l2o experiment run --dry-run estimates one comparison, its jobs one after another', () => {
    const r = runCli(args`experiment run ${spec} --scale smoke --cache-dir ${cache} --dry-run --json`);
    expect(r.code, r.stderr).toBe(0);
    const { estimate } = JSON.parse(r.stdout) as { estimate: Estimate };
    expect(estimate.calibration).toMatchObject({ calibrated: 0, reused: 5 });
    const sum = estimate.perJob.reduce((a, j) => a + j.seconds, 0);
    expect(estimate.seconds).toBeCloseTo(sum, 6);
  });

  it('refuses bad input before timing anything', () => {
    const fresh = path.join(temp, 'cache-bad');
    const r = runCli(args`sweep ${spec} --scale smoke --seeds 0..1 --grid nope.x=1,2 --cache-dir ${fresh} --dry-run`);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /'nope' is neither an optimizer nor the problem/);
    expect(r.stderr).not.toMatch(/calibrating/);
    expect(existsSync(path.join(fresh, 'calibration.json'))).toBe(false);
  });

  it('a local sweep keeps its estimate in its report folder and prints it beside the time it took', () => {
    const baseline = path.join(temp, 'baseline.yaml');
    writeFileSync(baseline, readFileSync(spec, 'utf8').replace('  - { id: lstm }\n', ''));
    const reports = path.join(temp, 'sweeps');
    const r = runCli(
      args`sweep ${baseline} --scale smoke --seeds 0 --workers 1 --cache-dir ${cache} --runs-dir ${path.join(temp, 'runs')} --reports-dir ${reports}`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 of 1 runs in [\d.]+ s \(estimated [\d.]+ s\)/);
    const dir = /report in (.+)$/m.exec(r.stdout)![1]!;
    const kept = JSON.parse(readFileSync(path.join(dir, 'estimate.json'), 'utf8')) as Estimate & { at: string };
    expect(kept.seconds).toBeGreaterThan(0);
    expect(kept.perJob.map((j) => j.kind).sort()).toEqual(['evaluate', 'reference', 'run']);
  });
});
