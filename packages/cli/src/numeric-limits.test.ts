import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { args, expectOneLineError, REPO_ROOT, runCli, type CliResult } from './test-utils/run-cli.js';

// Every numeric flag is checked when it is parsed, before any work and by --dry-run too: seeds
// the store can keep, sizes that typed arrays, strings and the engine can hold, bounded sweeps.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-limits-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const at = (...parts: string[]) => path.join(temp, ...parts);
const cache = at('cache');
const fig1 = path.join(REPO_ROOT, 'experiments/paper/fig1.yaml');

function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expectOneLineError(r.stderr, pattern);
}

describe('seeds are integers the run store can keep', () => {
  it('l2o run --seed 2147483648 and 99999999999999999999: exit 2, nothing run or written', () => {
    // Without --dry-run: the run itself must not start (it used to finish, then fail to be stored).
    for (const seed of ['2147483648', '99999999999999999999']) {
      const runs = at(`runs-${seed}`);
      const r = runCli(args`run --optimizer fista --problem lasso --scale smoke --seed ${seed} --runs-dir ${runs} --cache-dir ${cache}`);
      expectUsageError(r, new RegExp(`^Error: --seed must be an integer from 0 to 2147483647 \\(.*\\), got ${seed}\\.$`));
      expect(existsSync(runs)).toBe(false);
    }
    expect(existsSync(cache)).toBe(false); // no test set drawn
  });

  it('l2o train --seed 1e3 is refused, not read as 1000', () => {
    const out = at('never.json');
    expectUsageError(
      runCli(args`train --model lstm --problem lasso --scale smoke --seed 1e3 --out ${out} --dry-run`),
      /--seed must be an integer from 0 to 2147483647.*got 1e3\./,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("a spec's seed beyond the store's column is refused by --dry-run", () => {
    const spec = at('big-seed.yaml');
    writeFileSync(spec, 'name: big-seed\nproblem: { id: lasso }\ntest: { dataset: synthetic }\noptimizers: [{ id: fista }]\nseed: 2147483648\n');
    expectUsageError(runCli(args`experiment run ${spec} --scale smoke --dry-run --runs-dir ${at('runs-spec')}`), /seed.*2147483647/);
  });
});

describe('iterations and instance counts fit what holds them', () => {
  it('l2o run --iterations 1000000000000 --dry-run: exit 2, naming the largest accepted', () => {
    const r = runCli(args`run --optimizer fista --problem lasso --scale smoke --iterations 1000000000000 --dry-run`);
    expectUsageError(r, /^Error: --iterations must be an integer from 1 to 1000000 \(.*\), got 1000000000000\.$/);
    expect(r.stdout).toBe('');
  });

  it('iterations within the flag’s range but too many for the test batch: refused by --dry-run', () => {
    // (K + 1) × batch float32 objectives are stacked in one array: 1,000,000 × 1024 × 4 bytes > 2 GiB.
    const spec = at('wide.yaml');
    writeFileSync(
      spec,
      'name: wide\nproblem: { id: lasso }\ntest: { dataset: synthetic }\noptimizers: [{ id: fista }]\nscales: { smoke: { test: { count: 1024, batchSize: 1024 } } }\n',
    );
    const r = runCli(args`experiment run ${spec} --scale smoke --dry-run --runs-dir ${at('runs-wide')}`);
    expect(r.code, r.stderr).toBe(0); // smoke's 30 iterations fit
    const big = at('wide-big.yaml');
    writeFileSync(
      big,
      'name: wide\nproblem: { id: lasso }\ntest: { dataset: synthetic }\noptimizers: [{ id: fista }]\nscales: { smoke: { test: { count: 1024, batchSize: 1024, iterations: 1000000 } } }\n',
    );
    expectUsageError(
      runCli(args`experiment run ${big} --scale smoke --dry-run --runs-dir ${at('runs-wide')}`),
      /test\.iterations 1000000 with batches of 1024 .* over its 2 GiB\. Use at most 524287 iterations with batches of 1024/,
    );
  });

  it('l2o run --test-count and l2o train --batch-size beyond an array of F*: exit 2', () => {
    expectUsageError(
      runCli(args`run --optimizer fista --problem lasso --scale smoke --test-count 1000000000 --dry-run`),
      /--test-count must be an integer from 1 to 268435456 .*got 1000000000\./,
    );
    expectUsageError(
      runCli(args`train --model lstm --problem lasso --scale smoke --batch-size 99999999999 --dry-run`),
      /--batch-size must be an integer from 1 to 268435456/,
    );
  });
});

describe('sweeps are bounded', () => {
  it('--seeds 0..2147483648 --dry-run: exit 2 at once, not out of memory', () => {
    const started = Date.now();
    const r = runCli(args`sweep ${fig1} --scale smoke --seeds 0..2147483648 --dry-run`);
    expectUsageError(r, /--seeds 0\.\.2147483648: each seed must be an integer from 0 to 2147483647/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('--seeds 0..100000: at most 10000 seeds a sweep, with how to split it', () => {
    const r = runCli(args`sweep ${fig1} --scale smoke --seeds 0..100000 --dry-run`);
    expectUsageError(r, /--seeds 0\.\.100000 gives 100001 seeds; a sweep takes at most 10000\. Split it .* --seeds 0\.\.9999, then --seeds 10000\.\.19999\./);
    expect(r.stdout).toBe('');
  });

  it('--workers above the cores warns in one line; above 4 per core it is refused', () => {
    const cores = os.availableParallelism();
    const refused = runCli(args`sweep ${fig1} --scale smoke --seeds 0 --workers ${4 * cores + 1} --dry-run`);
    expectUsageError(
      refused,
      new RegExp(`--workers ${4 * cores + 1} starts ${4 * cores + 1} job processes on ${cores} cores?; at most ${4 * cores} \\(4 per core\\)`),
    );
    if (4 * cores < 1000)
      expectUsageError(runCli(args`sweep ${fig1} --scale smoke --seeds 0 --workers 1000 --dry-run`), /--workers 1000 starts 1000 job processes/);
    const runs = at('runs-warned');
    mkdirSync(runs);
    const warned = runCli(args`sweep ${fig1} --scale smoke --seeds 0 --workers ${cores + 1} --dry-run --runs-dir ${runs}`);
    expect(warned.code, warned.stderr).toBe(0);
    const warnings = warned.stderr.split('\n').filter((l) => l.startsWith('warning: --workers'));
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`^warning: --workers ${cores + 1} starts ${cores + 1} job processes on ${cores} cores?: they take turns`)),
    ]);
    expect(readdirSync(runs)).toEqual([]);
    // Three CLI processes, the last timing fig1's four models at smoke size for its estimate (4 s in CI).
  }, 30_000);
});
