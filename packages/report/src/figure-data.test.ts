import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { figureDataPath, keptForm, mergeFigureData, readFigureData, writeFigureData, type FigureData } from './figure-data.js';
import { geometricCurve, summaryFor } from './test-utils/curves.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-figure-data-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const run = (id: string, seed: number, createdAt: string) => {
  const curves = [geometricCurve('fista', 0.5, { iterations: 6 }), geometricCurve('ista', 2, { iterations: 6, divergeAt: 3 })];
  // A diverged curve holds ±Infinity as well as NaN.
  curves[1]!.meanF[2] = Number.POSITIVE_INFINITY;
  return { id, curves, summary: summaryFor('fig1', curves, { seed, createdAt }) };
};
const series = (label: string, seed: number, loss: number) => ({
  label,
  seed,
  points: [
    { step: 1, loss },
    { step: 2, loss: Number.NaN },
  ],
});

describe("a figure's kept data", () => {
  it('reads back what was written, NaN and ±Infinity included', () => {
    const data: FigureData = { name: 'fig1', runs: [run('a', 0, '2026-11-01T00:00:00Z')], validation: [series('lstm', 0, 0.5)] };
    writeFigureData(temp, data);
    const back = readFigureData(temp, 'fig1')!;
    expect(back).toEqual(data);
    expect(back.runs[0]!.curves[1]!.meanGap[3]).toBeNaN();
    expect(back.runs[0]!.curves[1]!.meanF[2]).toBe(Number.POSITIVE_INFINITY);
    expect(back.validation[0]!.points[1]!.loss).toBeNaN();
    expect(readFigureData(temp, 'fig9')).toBeNull();
  });

  it('keeps numbers to 7 significant digits, and the store’s runs are rounded the same way before a page is made', () => {
    const r = run('third', 0, '2026-11-01T00:00:00Z');
    r.curves[0]!.meanGap[1] = 1 / 3;
    r.curves[0]!.meanF[1] = 12345.678901;
    const data: FigureData = { name: 'fig4', runs: [r], validation: [] };
    writeFigureData(temp, data);
    const back = readFigureData(temp, 'fig4')!;
    expect(back.runs[0]!.curves[0]!.meanGap[1]).toBe(0.3333333);
    expect(back.runs[0]!.curves[0]!.meanF[1]).toBe(12345.68);
    expect(back.runs[0]!.curves[0]!.instances).toBe(4);
    expect(keptForm(data)).toEqual(back);
    expect(keptForm(back)).toEqual(back);
  });

  it('refuses a file that is not a figure’s data, in one line naming it', () => {
    mkdirSync(path.join(temp, 'data'), { recursive: true });
    writeFileSync(figureDataPath(temp, 'fig2'), '{"format":1,"name":"fig3","runs":[]}');
    expect(() => readFigureData(temp, 'fig2')).toThrow(/fig2\.json is not the kept data of fig2/);
    writeFileSync(figureDataPath(temp, 'fig2'), '{"format":1,');
    expect(() => readFigureData(temp, 'fig2')).toThrow(/fig2\.json is not valid JSON/);
  });

  it('merges sources to the newest run of each seed, the first source winning a tie, with that run’s validation', () => {
    const store: FigureData = {
      name: 'fig1',
      runs: [run('s0', 0, '2026-11-02T00:00:00Z'), run('s2', 2, '2026-11-01T00:00:00Z')],
      validation: [series('lstm', 0, 1), series('lstm', 2, 2)],
    };
    const kept: FigureData = {
      name: 'fig1',
      runs: [run('k0', 0, '2026-11-01T00:00:00Z'), run('k1', 1, '2026-11-01T00:00:00Z'), run('k2', 2, '2026-11-01T00:00:00Z')],
      validation: [series('lstm', 0, 10), series('lstm', 1, 11), series('lstm', 2, 12)],
    };
    const merged = mergeFigureData('fig1', [store, kept])!;
    expect(merged.runs.map((r) => r.id)).toEqual(['s0', 'k1', 's2']);
    expect(merged.validation.map((v) => v.points[0]!.loss)).toEqual([1, 11, 2]);
    // A kept run newer than the store's wins.
    expect(mergeFigureData('fig1', [{ ...store, runs: [run('old', 1, '2026-10-01T00:00:00Z')] }, kept])!.runs.map((r) => r.id)).toEqual(['k0', 'k1', 'k2']);
    expect(mergeFigureData('fig1', [null, { name: 'fig1', runs: [], validation: [] }])).toBeNull();
  });
});
