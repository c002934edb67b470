import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOKENS } from './container.js';
import type { DatasetContext } from './contracts/dataset.js';
import type { RunRecord, RunStore, TrainingRecord } from './contracts/run-store.js';
import type { Logger } from './logger.js';
import { planComparison, runComparison } from './experiment/run-comparison.js';
import { tinyComparison, tinyPlatform } from './test-utils/tiny.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-container-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const spec = tinyComparison('container', 2);

/** Keeps what is saved in memory. */
class MemoryStore implements RunStore {
  readonly location = 'memory';
  readonly runs: RunRecord[] = [];
  saveRun(run: RunRecord) {
    this.runs.push(run);
    return Promise.resolve({ id: run.id, created: true });
  }
  saveTraining(training: TrainingRecord) {
    return Promise.resolve({ id: training.id, created: true });
  }
}

describe('the platform container chooses the implementations core services use', () => {
  it('a registered RunStore receives every run runComparison writes, with its curves', async () => {
    const store = new MemoryStore();
    const platform = await tinyPlatform(path.join(temp, 'store'), (c) => c.register(TOKENS.RunStore, { useValue: store }));
    const { runDir, curves, stored } = await runComparison(platform, spec);
    expect(stored).toEqual({ id: path.basename(runDir), location: 'memory' });
    expect(store.runs.map((r) => r.id)).toEqual([path.basename(runDir)]);
    expect(store.runs[0]!.curves).toEqual(curves);
  });

  it('a substituted logger gets the lines of the default dataset context', async () => {
    const lines: string[] = [];
    const logger: Logger = { info: (l) => lines.push(`info ${l}`), warn: (l) => lines.push(`warn ${l}`) };
    const platform = await tinyPlatform(path.join(temp, 'logger'), (c) => c.register(TOKENS.Logger, { useValue: logger }));
    expect(platform.logger).toBe(logger);
    platform.datasetContext.log('downloading');
    platform.datasetContext.warn!('checksum mismatch');
    expect(lines).toEqual(['info downloading', 'warn checksum mismatch']);
  });

  it('a substituted dataset context is where the services cache test sets', async () => {
    const dir = path.join(temp, 'context');
    const elsewhere: DatasetContext = { cacheDir: path.join(temp, 'other-cache'), allowDownload: false, log: () => {}, warn: () => {} };
    const platform = await tinyPlatform(dir, (c) => c.register(TOKENS.DatasetContext, { useValue: elsewhere }));
    expect(platform.datasetContext).toBe(elsewhere);
    expect((await planComparison(platform, spec)).testSet.cached).toBe(false);
    await runComparison(platform, spec);
    expect((await planComparison(platform, spec)).testSet.cached).toBe(true);
    expect(readdirSync(path.join(elsewhere.cacheDir, 'testsets')).length).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, 'cache', 'testsets'))).toBe(false);
  });
});
