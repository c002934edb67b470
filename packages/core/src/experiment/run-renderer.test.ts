import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootPlatform, TOKENS, type BootOptions } from '../container.js';
import type { Dataset } from '../contracts/dataset.js';
import type { RunRenderer } from '../contracts/run-renderer.js';
import { tinyIsta, tinyLasso, tinyLassoSet } from '../test-utils/tiny.js';
import { runComparison, type ComparisonSpec } from './run-comparison.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-run-renderer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const tinyDataset: Dataset = {
  id: 'tiny',
  serves: ['lasso'],
  fixed: false,
  instances: async (request) => tinyLassoSet(request.count, 5, 8, 2, request.rng),
  describe: async () => ({ id: 'tiny', serves: ['lasso'], description: 'tiny LASSO', needsFiles: false, present: true }),
};

async function platformWith(register?: BootOptions['register']) {
  const platform = await bootPlatform(
    { backend: 'cpu', searchFrom: [temp], runsDir: path.join(temp, 'runs'), cacheDir: path.join(temp, 'cache') },
    { register },
  );
  const source = { packageName: 'tiny', version: '0.0.0', root: temp };
  platform.registry.add('problem', { id: 'lasso', description: 'tiny LASSO', create: () => tinyLasso }, source);
  platform.registry.add('optimizer', { id: 'ista', description: 'tiny ISTA', create: () => tinyIsta }, source);
  platform.registry.add('dataset', { id: 'tiny', description: 'tiny LASSO', serves: ['lasso'], create: () => tinyDataset }, source);
  return platform;
}

const spec: ComparisonSpec = {
  name: 'renderer',
  problem: { id: 'lasso' },
  testDataset: { id: 'tiny' },
  optimizers: [{ id: 'ista' }],
  scale: 'smoke',
  seed: 1,
  test: { count: 4, batchSize: 4, iterations: 5 },
};

describe('runComparison and the RunRenderer', () => {
  it('writes only data when no renderer is registered', async () => {
    const platform = await platformWith();
    const { runDir } = await runComparison(platform, spec);
    expect(readdirSync(runDir, { recursive: true }).map(String).sort()).toEqual([
      'config.json',
      'metrics',
      'metrics/ista.csv',
      'metrics/ista.json',
      'summary.json',
    ]);
  });

  it("adds the registered renderer's files to the run directory", async () => {
    const calls: unknown[] = [];
    const renderer: RunRenderer = {
      async render(summary, curves) {
        calls.push([summary.name, curves.map((c) => c.optimizer)]);
        return { 'summary.md': `# ${summary.name}\n`, 'plots/gap.bin': new Uint8Array([1, 2, 3]) };
      },
    };
    const platform = await platformWith((c) => c.register(TOKENS.RunRenderer, { useValue: renderer }));
    const { runDir } = await runComparison(platform, spec);
    expect(calls).toEqual([['renderer', ['ista']]]);
    expect(readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toBe('# renderer\n');
    expect([...readFileSync(path.join(runDir, 'plots/gap.bin'))]).toEqual([1, 2, 3]);
    expect(readdirSync(runDir)).toContain('summary.json');
  });
});
