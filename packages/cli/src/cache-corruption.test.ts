import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '@l2o/core';
import { runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-cache-corruption-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cache = path.join(temp, 'cache');
const run = ['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--cache-dir', cache, '--runs-dir', path.join(temp, 'runs')];

interface RunJson {
  summary: { optimizers: { label: string; finalGap: number | null }[] };
  curves: { optimizer: string; meanGap: (number | null)[]; finalGap: number | null }[];
}

/** Every gap of a `l2o run --json` output (NaN is null in JSON). */
function gapsOf(stdout: string): unknown[] {
  const json = JSON.parse(stdout) as RunJson;
  return [...json.summary.optimizers.map((o) => o.finalGap), ...json.curves.flatMap((c) => [c.finalGap, ...c.meanGap])];
}

function theFStarFile(): string {
  const files = readdirSync(path.join(cache, 'testsets'), { recursive: true })
    .map(String)
    .filter((f) => path.basename(f) === 'f_star.npy');
  expect(files).toHaveLength(1);
  return path.join(cache, 'testsets', files[0]!);
}

describe('a corrupt cached F* is rebuilt, not used or fatal', () => {
  it('l2o run: NaN in the cached f_star.npy gives a warning, exit 0 and finite gaps; so does a truncated one', () => {
    const first = runCli([...run, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const gaps = gapsOf(first.stdout);
    expect(gaps.length).toBeGreaterThan(2);
    expect(gaps.every((g) => typeof g === 'number' && Number.isFinite(g))).toBe(true);

    const file = theFStarFile();
    const { data, shape } = readNpy(file);
    data[1] = Number.NaN;
    writeFileSync(file, encodeNpy(data, shape));
    // Warnings go to stderr in human mode (--json and --quiet silence the log).
    const second = runCli(run);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(
      /^warning: cached test set .* is unreadable \(f_star\.npy holds a non-finite value \(NaN\) at index 1\); building it again$/m,
    );
    expect(second.stdout).not.toMatch(/NaN/);

    const bytes = readFileSync(theFStarFile());
    writeFileSync(theFStarFile(), bytes.subarray(0, bytes.length - 3));
    const third = runCli([...run, '--json']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toMatch(/^Error/m);
    // Rebuilt from the same seed: the same F*, so the same gaps as the first run.
    expect(gapsOf(third.stdout)).toEqual(gaps);
    expect(readNpy(theFStarFile()).data.every(Number.isFinite)).toBe(true);
  });
});
