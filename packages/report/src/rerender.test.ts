import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRunDir, RUN_MANIFEST, writeRunDir, type EvaluationCurve, type RunSummary } from '@l2o/core';
import { compareLoadedRuns, compareRuns, loadRunDir, rerenderRun, writeRunReport, type LoadedRun } from './rerender.js';

import { geometricCurve, summaryFor } from './test-utils/curves.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-rerender-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A run as the store gives it back: non-finite numbers are NaN (a run directory's JSON has null). */
function loaded(id: string, curves: EvaluationCurve[]): LoadedRun & { summary: RunSummary } {
  return { id, curves, summary: summaryFor(id, curves) };
}

/** The run written as a run directory (JSON: NaN becomes null). */
function writeDir(run: LoadedRun): string {
  const dir = path.join(temp, 'runs', run.id);
  mkdirSync(path.join(dir, 'metrics'), { recursive: true });
  writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(run.summary));
  for (const c of run.curves) writeFileSync(path.join(dir, 'metrics', `${c.optimizer}.json`), JSON.stringify(c));
  return dir;
}

describe('comparing and re-rendering loaded runs', () => {
  const a = loaded('a', [geometricCurve('fista', 0.5, { iterations: 10 }), geometricCurve('ista', 0.9, { iterations: 10, divergeAt: 5 })]);
  const b = loaded('b', [geometricCurve('fista', 0.6, { iterations: 10 }), geometricCurve('adam', 0.8, { iterations: 10 })]);

  it('compares loaded runs as it compares their run directories: the same rows and table', () => {
    const fromDirs = compareRuns([writeDir(a), `${writeDir(b)}/`]);
    const fromData = compareLoadedRuns([a, b]);
    expect(fromData).toEqual(fromDirs);
    expect(fromData.rows).toEqual([
      { optimizer: 'fista', a: 0.5 ** 10, b: 0.6 ** 10 },
      // A diverged optimizer's NaN gap is null, as in a run directory; one a run lacks too.
      { optimizer: 'ista', a: null, b: null },
      { optimizer: 'adam', a: null, b: 0.8 ** 10 },
    ]);
    expect(fromData.markdown).toMatch(/^\| ista \| — \| — \|$/m);
    expect(loadRunDir(path.join(temp, 'runs', 'a', '.')).id).toBe('a');
  });

  it('writes a loaded run report into any folder, as rerenderRun writes it into the run directory', async () => {
    const out = path.join(temp, 'out', 'a');
    expect((await writeRunReport(b, out)).sort()).toEqual(['convergence.png', 'convergence.svg', 'summary.md']);
    const dir = writeDir(b);
    await rerenderRun(dir);
    for (const f of ['convergence.png', 'convergence.svg', 'summary.md']) {
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);
    }
  });

  it("re-rendering a run directory records the new files' checksums in its manifest (so it still imports); a run without one gets none", async () => {
    const files: Record<string, string> = { 'summary.json': JSON.stringify(b.summary), 'summary.md': '# an older rendering\n' };
    for (const c of b.curves) files[`metrics/${c.optimizer}.json`] = JSON.stringify(c);
    const dir = await writeRunDir(path.join(temp, 'runs', 'with-manifest'), files);
    await rerenderRun(dir);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).not.toBe(files['summary.md']);
    expect(checkRunDir(dir)).toEqual({ verified: true, problems: [] });
    const old = writeDir(b);
    await rerenderRun(old);
    expect(existsSync(path.join(old, RUN_MANIFEST))).toBe(false);
  });

  it('re-renders a run directory with a diverged optimizer (null in its JSON) as the loaded run', async () => {
    const dir = writeDir(a);
    await rerenderRun(dir);
    const out = path.join(temp, 'out', 'diverged');
    await writeRunReport(a, out);
    expect(readFileSync(path.join(dir, 'summary.md'), 'utf8')).toMatch(/^\| ista \| diverged at k = 5 \| NaN \|/m);
    for (const f of ['convergence.png', 'convergence.svg', 'summary.md']) {
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);
    }
  });
});
