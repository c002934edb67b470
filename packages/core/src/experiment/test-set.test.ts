import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine.js';
import type { DatasetContext } from '../contracts/dataset.js';
import { encodeNpy } from '../io/npy.js';
import { tinyDataset, tinyIsta, tinyLasso } from '../test-utils/tiny.js';
import { loadOrBuildTestSet, testSetDir, type TestSetRequest } from './test-set.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-test-set-'));
beforeAll(async () => {
  await selectEngine('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const request: TestSetRequest = {
  dataset: { id: 'tiny', options: {} },
  problem: { id: 'lasso', options: {} },
  split: 'test',
  count: 4,
  seed: 7,
  reference: { id: 'ista', options: {}, maxIterations: 3000, tolerance: 1e-5, checkEvery: 50 },
};

function contextIn(cacheDir: string): DatasetContext & { lines: string[] } {
  const lines: string[] = [];
  return { cacheDir, allowDownload: false, log: (l) => lines.push(l), lines };
}

const build = (ctx: DatasetContext) => loadOrBuildTestSet(tinyDataset, tinyLasso, tinyIsta, request, ctx, 4);

describe('a corrupt cached test set is a cache miss', () => {
  let fresh: Float64Array;
  const ctx = contextIn(path.join(temp, 'cache'));
  const fStarFile = () => path.join(testSetDir(request, ctx), 'f_star.npy');

  beforeAll(async () => {
    const first = await build(ctx);
    expect(first.cached).toBe(false);
    fresh = first.set.fStar!;
    expect(fresh.every(Number.isFinite)).toBe(true);
    expect((await build(ctx)).cached).toBe(true);
    expect(ctx.lines).toEqual([]);
  });

  async function expectRebuilt(pattern: RegExp): Promise<void> {
    ctx.lines.length = 0;
    const again = await build(ctx);
    expect(again.cached).toBe(false);
    expect(ctx.lines).toHaveLength(1);
    expect(ctx.lines[0]).toMatch(new RegExp(`^warning: cached test set ${testSetDir(request, ctx)} is unreadable \\(`));
    expect(ctx.lines[0]).toMatch(pattern);
    expect(ctx.lines[0]).toMatch(/; building it again$/);
    expect(Array.from(again.set.fStar!)).toEqual(Array.from(fresh));
    // The rebuilt entry is whole again: the next call uses it without a warning.
    ctx.lines.length = 0;
    expect((await build(ctx)).cached).toBe(true);
    expect(ctx.lines).toEqual([]);
  }

  it('rebuilds a truncated f_star.npy, with the same F* as a fresh build', async () => {
    const bytes = readFileSync(fStarFile());
    writeFileSync(fStarFile(), bytes.subarray(0, bytes.length - 5));
    await expectRebuilt(/f_star\.npy/);
    const other = await build(contextIn(path.join(temp, 'other-cache')));
    expect(Array.from(other.set.fStar!)).toEqual(Array.from(fresh));
  });

  it('rebuilds an f_star.npy holding NaN', async () => {
    const withNaN = Float64Array.from(fresh);
    withNaN[2] = Number.NaN;
    writeFileSync(fStarFile(), encodeNpy(withNaN, [withNaN.length]));
    await expectRebuilt(/non-finite value \(NaN\) at index 2/);
  });

  it('rebuilds an f_star.npy of the wrong count, and a bad instances.json', async () => {
    writeFileSync(fStarFile(), encodeNpy(new Float64Array(5).fill(1), [5]));
    await expectRebuilt(/has shape \[5\], expected \[4\]/);
    writeFileSync(path.join(testSetDir(request, ctx), 'instances.json'), '{"format": "l2o-inst');
    await expectRebuilt(/instances\.json is not valid JSON/);
  });
});
