import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '@l2o/core';
import { createBsds500Dataset } from '../bsds500/bsds500.js';
import { createUciDataset } from '../uci/uci.js';
import { locateRaw, verifyRaw } from './raw-files.js';
import { RAW_SOURCES } from './sources.js';
import { FIXTURES, FIXTURE_IMAGES, fixtureBsds500, tempContext } from '../test-utils/shared-data.js';

/** A data directory with a copy of the fixture images except `drop`. */
function partialBsds(drop: readonly string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'l2o-partial-'));
  cpSync(path.join(FIXTURES, 'bsds500'), path.join(dir, 'bsds500'), { recursive: true });
  for (const f of drop) rmSync(path.join(dir, 'bsds500/images/test', f));
  return dir;
}

const [first, second, ...rest] = FIXTURE_IMAGES;

describe('missing raw files', () => {
  it('are named, with their count, in the log and in the error', async () => {
    const dataDir = partialBsds([second, first]);
    const logged: string[] = [];
    const error = await locateRaw(fixtureBsds500(), tempContext({ dataDir, log: (l) => logged.push(l) })).catch((e: unknown) => e);
    const expected = `2 of 5 files missing in ${path.join(dataDir, 'bsds500')} (images/test/${first}, images/test/${second})`;
    expect(logged).toEqual([`bsds500: ${expected}`]);
    expect(error).toMatchObject({
      message: `Dataset bsds500 is not available locally: ${expected}.`,
      hint: expect.stringMatching(/--data-dir.*l2o datasets fetch bsds500/),
    });
    expect(String((error as Error).message)).not.toMatch(/\n/);
  });

  it('show the first three and the count when many are missing (the official 200 against 5 present)', async () => {
    const dataDir = partialBsds([]);
    const error = await locateRaw(RAW_SOURCES.bsds500!, tempContext({ dataDir })).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `Dataset bsds500 is not available locally: 195 of 200 files missing in ${path.join(dataDir, 'bsds500')} (images/test/100007.jpg, images/test/100039.jpg, images/test/100099.jpg, …).`,
    );
  });

  it('name a missing single file by its path in the data directory', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'l2o-empty-'));
    await expect(
      createUciDataset('ionosphere').instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, tempContext({ dataDir })),
    ).rejects.toThrow(`Dataset ionosphere is not available locally: 1 of 1 file missing in ${dataDir} (uci/ionosphere.data).`);
  });

  it('in the data directory are noted when the cache has the files', async () => {
    const dataDir = partialBsds([first]);
    const logged: string[] = [];
    const ctx = tempContext({ dataDir, log: (l) => logged.push(l) });
    cpSync(path.join(FIXTURES, 'bsds500'), path.join(ctx.cacheDir, 'raw/bsds500'), { recursive: true });
    expect(await locateRaw(fixtureBsds500(), ctx)).toBe(path.join(ctx.cacheDir, 'raw'));
    expect(logged).toEqual([`bsds500: 1 of 5 files missing in ${path.join(dataDir, 'bsds500')} (images/test/${first}); using the cached copy`]);
  });
});

describe('verifyRaw', () => {
  it('verifies every file against its checksum', async () => {
    const result = await createBsds500Dataset(fixtureBsds500()).verify(tempContext({ dataDir: FIXTURES }));
    expect(result).toMatchObject({
      id: 'bsds500',
      location: FIXTURES,
      files: 5,
      missing: [],
      mismatched: [],
      checksums: true,
      ok: true,
      summary: 'verified: 5 files',
    });
  });

  it('names missing and altered files', async () => {
    const dataDir = partialBsds([first]);
    writeFileSync(path.join(dataDir, 'bsds500/images/test', rest[0]), 'not the image');
    const result = await verifyRaw(fixtureBsds500(), tempContext({ dataDir }));
    expect(result.ok).toBe(false);
    expect(result.missing).toEqual([`bsds500/images/test/${first}`]);
    expect(result.mismatched).toEqual([`bsds500/images/test/${rest[0]}`]);
    expect(result.summary).toBe(
      `1 of 5 files missing in ${path.join(dataDir, 'bsds500')} (images/test/${first}); 1 file not matching the official SHA-256 (images/test/${rest[0]})`,
    );
  });

  it('checks presence only when asked to skip checksums', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'l2o-uci-'));
    mkdirSync(path.join(dataDir, 'uci'));
    writeFileSync(path.join(dataDir, 'uci/ionosphere.data'), 'not the data');
    const ctx = tempContext({ dataDir });
    expect(await verifyRaw(RAW_SOURCES.ionosphere!, ctx, { checksums: false })).toMatchObject({
      ok: true,
      summary: 'present: 1 file (checksums not verified)',
    });
    expect(await verifyRaw(RAW_SOURCES.ionosphere!, ctx)).toMatchObject({ ok: false, mismatched: ['uci/ionosphere.data'] });
  });
});
