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
interface NumericsRecord {
  fingerprint: string;
  kernels?: string;
  /** The fingerprint of the code that made each page's runs, where it is not `fingerprint`. */
  pages?: Record<string, string>;
}
interface FingerprintScript {
  figurePages: (dir: string) => string[];
  numericsFingerprint: (cli?: string, figures?: string[], kernels?: string) => { fingerprint: string; engine: string };
  markStale: (dir: string, recorded: string | NumericsRecord, now: string) => string[];
  recordedFor: (recorded: NumericsRecord, page: string) => string;
  STALE_MARK: string;
}
const script = path.join(REPO_ROOT, 'scripts', 'numerics-fingerprint.mjs');
const load = () => import(script) as Promise<FingerprintScript>;
const resultsDir = path.join(REPO_ROOT, 'docs', 'results');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-fresh-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The figure pages, at the top and in each scale's folder ('fig1.md', 'cpu/fig1.md'), as the script finds them. */
const pages = (dir: string) => {
  const found = [
    ...readdirSync(dir).filter((f) => /^fig\d+\.md$/.test(f)),
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'data')
      .flatMap((e) =>
        readdirSync(path.join(dir, e.name))
          .filter((f) => /^fig\d+\.md$/.test(f))
          .map((f) => `${e.name}/${f}`),
      ),
  ];
  expect(found.length).toBeGreaterThan(0);
  return found;
};

describe('docs/results', () => {
  it('were made by code of the current numerics, or say on their page that they are stale (page by page)', async () => {
    const { figurePages, numericsFingerprint, recordedFor, STALE_MARK } = await load();
    expect(figurePages(resultsDir).sort()).toEqual(pages(resultsDir).sort());
    const recorded = JSON.parse(readFileSync(path.join(resultsDir, 'numerics.json'), 'utf8')) as NumericsRecord;
    // Runs recorded before the platform had kernels of its own ran on tfjs's alone.
    const now = numericsFingerprint(undefined, undefined, recorded.kernels ?? 'tfjs');
    for (const page of pages(resultsDir)) {
      const made = recordedFor(recorded, page);
      const marked = readFileSync(path.join(resultsDir, page), 'utf8').startsWith(STALE_MARK);
      expect(
        marked,
        made === now.fingerprint
          ? `${page} is marked stale although its runs' numerics (${made}) are the code's`
          : `the numerics changed (fingerprint ${made} → ${now.fingerprint}) since ${page}'s runs: run the figure again and regenerate docs/results, or mark it with node scripts/numerics-fingerprint.mjs --mark-stale docs/results`,
      ).toBe(made !== now.fingerprint);
    }
  }, 600_000);

  it('a stale mark goes on top of each figure page once, the page below unchanged', async () => {
    const { markStale, STALE_MARK } = await load();
    const dir = path.join(temp, 'results');
    cpSync(resultsDir, dir, { recursive: true });
    const page = pages(dir)[0]!;
    // The page as it is below a stale mark it may already carry.
    const lines = readFileSync(path.join(dir, page), 'utf8').split('\n');
    const before = (lines[0]!.startsWith(STALE_MARK) ? lines.slice(2) : lines).join('\n');
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

  it('page by page: a page whose runs have the current fingerprint loses its mark, the others keep theirs', async () => {
    const { markStale, STALE_MARK } = await load();
    const dir = path.join(temp, 'per-page');
    cpSync(resultsDir, dir, { recursive: true });
    const [first, ...rest] = pages(dir);
    const before = readFileSync(path.join(dir, first!), 'utf8')
      .split('\n')
      .filter((l, i, all) => !(l.startsWith(STALE_MARK) || (i === 1 && all[0]!.startsWith(STALE_MARK) && l === '')));
    expect(markStale(dir, 'aaaa', 'cccc')).toEqual(pages(dir));
    expect(markStale(dir, { fingerprint: 'aaaa', pages: { [first!.replace(/\.md$/, '')]: 'cccc' } }, 'cccc')).toEqual(rest);
    expect(readFileSync(path.join(dir, first!), 'utf8').split('\n')).toEqual(before);
    for (const page of rest) expect(readFileSync(path.join(dir, page), 'utf8')).toMatch(/^> \*\*Stale:\*\* .*fingerprint aaaa, now cccc/);
  });
});
