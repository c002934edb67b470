import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JS (scripts/), without type declarations.
import { bundleForBrowser } from '../../scripts/browser-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = mkdtempSync(path.join(os.tmpdir(), 'l2o-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const bundle = (entry: string) =>
  bundleForBrowser(entry, path.join(out, `${path.basename(entry)}.js`)) as Promise<{ metafile: { inputs: Record<string, unknown> } }>;
const workspace = (p: string) => path.resolve(root, '..', p);

describe('browser bundles', () => {
  it('the page and the model, problem, baseline and synthetic-data entry points bundle with no Node built-in', async () => {
    for (const entry of [
      'dashboard/src/web/main.ts',
      'models/src/index.ts',
      'problems/src/index.ts',
      'baselines/src/index.ts',
      'datasets/src/synthetic.ts',
      'core/src/portable.ts',
    ]) {
      const { metafile } = await bundle(workspace(entry));
      expect(
        Object.keys(metafile.inputs).some((f) => f.includes('tfjs-core')),
        entry,
      ).toBe(true);
    }
  }, 120_000);

  it("fails, naming the import, for an entry that reaches Node's file system (core's full entry)", async () => {
    await expect(bundle(workspace('core/src/index.ts'))).rejects.toThrow(/node:(fs|path|crypto|module|os|url|child_process|worker_threads)|Node built-in/);
  }, 120_000);
});
