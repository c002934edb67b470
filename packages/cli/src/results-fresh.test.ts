import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './test-utils/run-cli.js';

// docs/results shows numbers of stored runs; docs/results/numerics.json keeps the numerics
// fingerprint of the code that made them (scripts/numerics-fingerprint.mjs: smoke runs of figures
// 1, 3 and 5 on WASM, hashed, with the kernel set the runs used). Code that changes the arithmetic
// must come with new runs and pages, or with the pages marked stale; marks on pages whose numbers
// still hold are wrong too.
interface FingerprintScript {
  numericsFingerprint: (cli?: string, figures?: string[], kernels?: string) => { fingerprint: string; engine: string };
  markStale: (dir: string, recorded: string, now: string) => string[];
  STALE_MARK: string;
}
const script = path.join(REPO_ROOT, 'scripts', 'numerics-fingerprint.mjs');
const load = () => import(script) as Promise<FingerprintScript>;
const resultsDir = path.join(REPO_ROOT, 'docs', 'results');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-fresh-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const pages = (dir: string) => readdirSync(dir).filter((f) => /^fig\d+\.md$/.test(f));

describe('docs/results', () => {
  it('were made by code of the current numerics, or say on every page that they are stale', async () => {
    const { numericsFingerprint, STALE_MARK } = await load();
    const recorded = JSON.parse(readFileSync(path.join(resultsDir, 'numerics.json'), 'utf8')) as { fingerprint: string; kernels?: string };
    // Runs recorded before the platform had kernels of its own ran on tfjs's alone.
    const now = numericsFingerprint(undefined, undefined, recorded.kernels ?? 'tfjs');
    const marked = pages(resultsDir).filter((p) => readFileSync(path.join(resultsDir, p), 'utf8').startsWith(STALE_MARK));
    if (now.fingerprint === recorded.fingerprint) {
      expect(marked, 'pages marked stale although the numerics are those of their runs').toEqual([]);
    } else {
      expect(
        marked,
        `the numerics changed (fingerprint ${recorded.fingerprint} → ${now.fingerprint}): run the figures again and regenerate docs/results, or mark the pages with node scripts/numerics-fingerprint.mjs --mark-stale docs/results`,
      ).toEqual(pages(resultsDir));
    }
  }, 600_000);

  it('a stale mark goes on top of each figure page once, the page below unchanged', async () => {
    const { markStale, STALE_MARK } = await load();
    const dir = path.join(temp, 'results');
    cpSync(resultsDir, dir, { recursive: true });
    const page = pages(dir)[0]!;
    const before = readFileSync(path.join(dir, page), 'utf8');
    writeFileSync(path.join(dir, 'notes.md'), 'not a figure\n');
    expect(markStale(dir, 'aaaa', 'bbbb')).toEqual(pages(dir));
    markStale(dir, 'aaaa', 'cccc'); // again: replaced, not added
    const after = readFileSync(path.join(dir, page), 'utf8');
    const [mark, blank, ...rest] = after.split('\n');
    expect(mark).toMatch(new RegExp(`^${STALE_MARK.replace(/[*]/g, '\\*')} .*fingerprint aaaa, now cccc`));
    expect(blank).toBe('');
    expect(rest.join('\n')).toBe(before);
    expect(readFileSync(path.join(dir, 'notes.md'), 'utf8')).toBe('not a figure\n');
  });
});
