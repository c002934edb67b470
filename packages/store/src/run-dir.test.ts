import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRunDir, curveCsv, L2oError, RUN_MANIFEST, writeRunDir, type EvaluationCurve, type RunSummary } from '@l2o/core';
import { openRunStore } from './open.js';
import { readRunDir } from './run-dir.js';
import { exportRunDir } from './export-run.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-run-dir-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A curve as the evaluator gives it: gap halving each iteration from 1. */
function curve(label: string, K = 10): EvaluationCurve {
  const meanGap = Array.from({ length: K + 1 }, (_, k) => 0.5 ** k);
  return {
    optimizer: label,
    instances: 8,
    gapInstances: 8,
    meanF: meanGap.map((g) => 2 * (1 + g)),
    meanGap,
    finalGap: meanGap[K]!,
    iterationsTo: { '0.01': 7, '0.001': 10, '0.0001': null },
    divergedAt: null,
    seconds: 0.25,
  };
}

/** A run directory as `l2o run` writes it (through writeRunDir, so with its checksum manifest). */
async function writeRun(name: string, seed = 0): Promise<string> {
  const curves = [curve('fista'), curve('ista')];
  const summary: RunSummary = {
    name: 'fista-lasso',
    problem: { id: 'lasso', options: {} },
    trainDataset: { id: 'synthetic', options: { preset: 'toy' } },
    testDataset: { id: 'synthetic', options: { preset: 'toy' } },
    testInstances: 8,
    iterations: 10,
    scale: 'smoke',
    seed,
    engine: 'wasm',
    training: {},
    optimizers: curves.map((c) => ({
      label: c.optimizer,
      id: c.optimizer,
      kind: 'baseline',
      options: {},
      finalGap: c.finalGap,
      finalF: c.meanF.at(-1)!,
      iterationsTo: c.iterationsTo,
      divergedAt: c.divergedAt,
      evaluationSeconds: c.seconds,
    })),
    createdAt: '2026-11-29T08:00:00.000Z',
  };
  const files: Record<string, string> = {
    'config.json': `${JSON.stringify({ spec: { name: 'fista-lasso', seed: 0 } }, null, 2)}\n`,
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    'summary.md': '# fista-lasso\n',
  };
  for (const c of curves) {
    files[`metrics/${c.optimizer}.csv`] = curveCsv(c);
    files[`metrics/${c.optimizer}.json`] = JSON.stringify(c, null, 1);
  }
  return writeRunDir(path.join(temp, 'runs', name), files);
}

/** Edits the last point of an optimizer's gap curve in its metrics file (the 2.41e-3 → 9.02e-1). */
function editCurve(dir: string, label: string, gap: number): void {
  const file = path.join(dir, 'metrics', `${label}.json`);
  const c = JSON.parse(readFileSync(file, 'utf8')) as EvaluationCurve;
  c.meanGap[c.meanGap.length - 1] = gap;
  writeFileSync(file, JSON.stringify(c, null, 1));
}

/** What `l2o runs list` shows of a run (the summary's final gaps) and what `l2o runs show` shows (the curves' last points). */
async function listAndShow(location: string, id: string): Promise<{ listed: Record<string, number | null>; shown: Record<string, number> }> {
  const store = await openRunStore(location);
  try {
    const [row] = await store.listRuns({ id });
    const curves = await store.curves(id);
    return {
      listed: Object.fromEntries(row!.optimizers.map((o) => [o.label, o.finalGap])),
      shown: Object.fromEntries(Object.entries(curves).map(([label, c]) => [label, c.meanGap.at(-1)!])),
    };
  } finally {
    await store.close();
  }
}

const filesOf = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !statSync(path.join(dir, f)).isDirectory()).sort();
const manifestOf = (dir: string) =>
  Object.fromEntries(
    readFileSync(path.join(dir, RUN_MANIFEST), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('  ').reverse()),
  ) as Record<string, string>;

describe('run directories carry a checksum manifest; import checks it', () => {
  it('writeRunDir writes the SHA-256 of every file it wrote, sorted by path; an untouched run reads verified, with no warning', async () => {
    const dir = await writeRun('untouched');
    expect(filesOf(dir)).toContain(RUN_MANIFEST);
    const lines = readFileSync(path.join(dir, RUN_MANIFEST), 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split('  ')[1])).toEqual([
      'config.json',
      'metrics/fista.csv',
      'metrics/fista.json',
      'metrics/ista.csv',
      'metrics/ista.json',
      'summary.json',
      'summary.md',
    ]);
    for (const l of lines) expect(l).toMatch(/^[0-9a-f]{64} {2}\S+$/);
    expect(checkRunDir(dir)).toEqual({ verified: true, problems: [] });
    const warnings: string[] = [];
    const record = readRunDir(dir, {}, { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([]);
    // The manifest is not a stored artifact: an export writes its own.
    expect(Object.keys(record.artifacts)).toEqual(['summary.md']);
  });

  it('refuses a run whose metrics file was edited, with one line naming the run, the file and the fix; nothing is stored', async () => {
    const dir = await writeRun('edited');
    editCurve(dir, 'fista', 0.902);
    let thrown: unknown;
    try {
      readRunDir(dir);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(L2oError);
    const line = (thrown as L2oError).oneLine();
    expect(line).not.toContain('\n');
    expect(line).toContain(dir);
    expect(line).toMatch(/metrics\/fista\.json differs from its checksum in checksums\.sha256/);
    expect(line).toMatch(/--rederive/);
    expect((thrown as L2oError).exitCode).toBe(1);
  });

  it('refuses a run with a file added or removed since it was written', async () => {
    const added = await writeRun('added');
    writeFileSync(path.join(added, 'notes.txt'), 'mine\n');
    expect(() => readRunDir(added)).toThrow(/notes\.txt is not listed in checksums\.sha256/);
    const removed = await writeRun('removed');
    rmSync(path.join(removed, 'metrics', 'ista.csv'));
    expect(() => readRunDir(removed)).toThrow(/metrics\/ista\.csv, listed in checksums\.sha256, is missing/);
  });

  it('with rederive, stores the edited run as it is, its summary re-derived from the curves: list and show agree', async () => {
    const dir = await writeRun('rederived');
    editCurve(dir, 'fista', 0.902);
    const warnings: string[] = [];
    const record = readRunDir(dir, {}, { rederive: true, warn: (l) => warnings.push(l) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/metrics\/fista\.json differs from its checksum/);
    const fista = record.summary.optimizers.find((o) => o.label === 'fista')!;
    // Everything the summary says of the curve comes from the edited curve: its last point was the
    // only one at or below 1e-3.
    expect(fista).toMatchObject({ finalGap: 0.902, finalF: 2 * (1 + 0.5 ** 10), iterationsTo: { '0.01': 7, '0.001': null, '0.0001': null }, divergedAt: null });
    const location = path.join(temp, 'store-rederive');
    const store = await openRunStore(location);
    await store.saveRun(record);
    await store.close();
    const { listed, shown } = await listAndShow(location, 'rederived');
    expect(listed).toEqual(shown);
    expect(listed.fista).toBe(0.902);
  });

  it('imports a run written before manifests with a warning, its summary taken from its curves (list and show agree)', async () => {
    const dir = await writeRun('old-run');
    rmSync(path.join(dir, RUN_MANIFEST));
    // An old run whose summary disagrees with its curve (as an edit would leave it).
    const summaryFile = path.join(dir, 'summary.json');
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as RunSummary;
    summary.optimizers[0]!.finalGap = 2.41e-3;
    writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
    const warnings: string[] = [];
    const record = readRunDir(dir, {}, { warn: (l) => warnings.push(l) });
    expect(warnings).toEqual([
      `${dir} has no checksums.sha256 (written before runs had one): importing it unverified, with its summary's metrics taken from its curves.`,
    ]);
    const location = path.join(temp, 'store-old');
    const store = await openRunStore(location);
    await store.saveRun(record);
    await store.close();
    const { listed, shown } = await listAndShow(location, 'old-run');
    expect(listed).toEqual(shown);
    expect(listed.fista).toBe(0.5 ** 10);
  });

  it('export writes a manifest of what it writes: the export imports verified, and exports back byte for byte', async () => {
    const dir = await writeRun('round-trip');
    const location = path.join(temp, 'store-round-trip');
    const store = await openRunStore(location);
    try {
      await store.saveRun(readRunDir(dir));
      const exported = await exportRunDir((await store.getRun('round-trip'))!, path.join(temp, 'exported', 'round-trip'));
      expect(filesOf(exported)).toEqual(filesOf(dir));
      expect(checkRunDir(exported)).toEqual({ verified: true, problems: [] });
      // Every file the store gives back byte for byte has the original's checksum (summary.json
      // comes back equal as JSON: the store does not keep its keys' order).
      const [original, again] = [manifestOf(dir), manifestOf(exported)];
      for (const f of Object.keys(original)) {
        if (readFileSync(path.join(dir, f)).equals(readFileSync(path.join(exported, f)))) expect(again[f], f).toBe(original[f]);
        else expect(JSON.parse(readFileSync(path.join(exported, f), 'utf8')), f).toEqual(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      }
      expect(readFileSync(path.join(exported, 'config.json')).equals(readFileSync(path.join(dir, 'config.json')))).toBe(true);
      // The export imported (under another id) and exported again: the same files, manifest included.
      const copy = path.join(temp, 'runs', 'round-trip-copy');
      cpSync(exported, copy, { recursive: true });
      const warnings: string[] = [];
      await store.saveRun(readRunDir(copy, {}, { warn: (l) => warnings.push(l) }));
      expect(warnings).toEqual([]);
      const twice = await exportRunDir((await store.getRun('round-trip-copy'))!, path.join(temp, 'exported', 'twice'));
      for (const f of filesOf(exported)) expect(readFileSync(path.join(twice, f)).equals(readFileSync(path.join(exported, f))), f).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('runs the store cannot keep', () => {
  it('refuses a run written with a seed beyond the store’s integer column, in one line naming the run and the range', async () => {
    const dir = await writeRun('big-seed', 2_147_483_648);
    expect(() => readRunDir(dir)).toThrow(L2oError);
    expect(() => readRunDir(dir)).toThrow(/big-seed has seed 2147483648, which the store cannot keep \(its seeds are integers from 0 to 2147483647\)\./);
  });
});
