import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOKENS, type BootOptions } from '../container.js';
import type { RunRenderer } from '../contracts/run-renderer.js';
import { tinyComparison, tinyPlatform } from '../test-utils/tiny.js';
import { runComparison } from './run-comparison.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-run-renderer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const platformWith = (register?: BootOptions['register']) => tinyPlatform(temp, register);

const spec = tinyComparison('renderer', 1);

describe('runComparison and the RunRenderer', () => {
  it('writes only data when no renderer is registered', async () => {
    const platform = await platformWith();
    const { runDir } = await runComparison(platform, spec);
    expect(readdirSync(runDir, { recursive: true }).map(String).sort()).toEqual([
      'checksums.sha256',
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
