import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationCurve } from '@l2o/core';
import {
  curveFromKeptJson,
  figureDataJson,
  figureDataPath,
  keptCurveJson,
  keptForm,
  mergeFigureData,
  readFigureData,
  validationSeriesOf,
  writeFigureData,
  type FigureData,
} from './figure-data.js';
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

/** A deterministic generator in [0, 1) (a linear congruential one: the same figure on every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}
const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/**
 * A curve with per-instance results as a float64 evaluation gives them, on `count` instances over
 * K iterations: each instance's gap falls geometrically at its own rate from its own start down to
 * float64's rounding (~1e-15).
 */
function instanceCurve(optimizer: string, count: number, K: number, rand: () => number): EvaluationCurve {
  const instances = Array.from({ length: count }, () => ({ start: Math.exp(normal(rand)), decades: (0.02 + 0.04 * rand()) * Math.exp(0.3 * normal(rand)) }));
  const gap = (i: number, k: number) => Math.max(instances[i]!.start * 10 ** (-instances[i]!.decades * k), 1e-15 * (1 + rand()));
  const at = [0, 10, 20, 50, 100, K];
  const meanGap = Array.from({ length: K + 1 }, (_, k) => instances.reduce((sum, _i, i) => sum + gap(i, k), 0) / count);
  const median = (k: number) => 10 ** (-0.04 * k);
  const thresholds = ['0.01', '0.001', '0.0001'];
  return {
    optimizer,
    instances: count,
    gapInstances: count,
    meanF: meanGap.map((g) => 0.3693755 * (1 + g)),
    meanGap,
    finalGap: meanGap[K]!,
    iterationsTo: { '0.01': 40, '0.001': 80, '0.0001': 120 },
    divergedAt: null,
    seconds: 12.5,
    gapQuantiles: Array.from({ length: K + 1 }, (_, k) => [-1.28, -0.67, 0, 0.67, 1.28].map((z) => Math.max(median(k) * Math.exp(z), 1e-15))),
    perInstance: {
      at,
      gaps: at.map((k) => instances.map((_, i) => gap(i, k))),
      iterationsTo: Object.fromEntries(
        thresholds.map((t) => [
          t,
          instances.map((_, i) => {
            const k = Math.ceil(Math.log10(instances[i]!.start / Number(t)) / instances[i]!.decades);
            return k <= K ? Math.max(k, 0) : null;
          }),
        ]),
      ),
      diverged: [],
    },
    float64: true,
    resolution: 2.2e-16,
  };
}

/** A small curve with every kind of per-instance value: +Infinity (diverged), NaN (no gap), 0 and negative gaps, null ("never"). */
function specialCurve(): EvaluationCurve {
  const curve = geometricCurve('lista', 0.5, { iterations: 6 });
  curve.gapQuantiles = Array.from({ length: 7 }, (_, k) => [0.1, 0.2, 0.5, 0.7, 0.9].map((q) => q * 0.5 ** k));
  curve.gapQuantiles[6]![4] = Number.POSITIVE_INFINITY;
  curve.perInstance = {
    at: [0, 6],
    gaps: [
      [2, 1.234567, 0.7, Number.NaN],
      [0, -3e-9, Number.POSITIVE_INFINITY, Number.NaN],
    ],
    iterationsTo: { '0.01': [3, 0, null, null], '0.001': [5, 6, null, null], '0.0001': [null, 6, null, null] },
    diverged: [2],
  };
  curve.float64 = true;
  curve.resolution = 1.5e-15;
  return curve;
}

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

  it('keeps per-instance results packed: gaps within 0.12%, the special values and iterations exactly', () => {
    const curve = specialCurve();
    const data: FigureData = { name: 'fig5', runs: [{ id: 'p', curves: [curve], summary: summaryFor('fig5', [curve]) }], validation: [] };
    writeFigureData(temp, data);
    const text = readFileSync(figureDataPath(temp, 'fig5'), 'utf8');
    expect(JSON.parse(text).format).toBe(2);
    const back = readFigureData(temp, 'fig5')!.runs[0]!.curves[0]!;
    const within = (got: number, want: number) => expect(Math.abs(got / want - 1)).toBeLessThan(0.0012);
    back.gapQuantiles!.forEach((row, k) =>
      row.forEach((q, j) => (k === 6 && j === 4 ? expect(q).toBe(Number.POSITIVE_INFINITY) : within(q, curve.gapQuantiles![k]![j]!))),
    );
    const [start, end] = back.perInstance!.gaps as number[][];
    start!.slice(0, 3).forEach((g, i) => within(g, curve.perInstance!.gaps[0]![i]!));
    expect(start![3]).toBeNaN();
    // A gap at or below zero (float rounding below F*) is kept as 1e-32.
    expect(end).toEqual([1e-32, 1e-32, Number.POSITIVE_INFINITY, Number.NaN]);
    expect(back.perInstance!.at).toEqual([0, 6]);
    expect(back.perInstance!.iterationsTo).toEqual(curve.perInstance!.iterationsTo);
    expect(back.perInstance!.diverged).toEqual([2]);
    expect(back.float64).toBe(true);
    expect(back.resolution).toBe(1.5e-15);
    expect(back.meanGap).toEqual(curve.meanGap);
    // The store gives back JSON's nulls (+Infinity where an instance diverged, NaN throughout where it has no gap).
    const fromStore = JSON.parse(JSON.stringify(curve)) as EvaluationCurve;
    const kept = keptForm({ ...data, runs: [{ ...data.runs[0]!, curves: [fromStore] }] }).runs[0]!.curves[0]!;
    expect(kept.gapQuantiles).toEqual(back.gapQuantiles);
    expect(kept.perInstance).toEqual(back.perInstance);
  });

  it('keeps per-instance results the same through keptForm again, over the whole range of gaps', () => {
    const rand = random(7);
    const curve = specialCurve();
    // Gaps from 1e-40 to 1e40 (beyond the ±32 decades kept), at every rounding boundary's neighbourhood.
    curve.perInstance!.gaps = [
      Array.from({ length: 4000 }, () => 10 ** (80 * rand() - 40)),
      Array.from({ length: 4000 }, (_, i) => 10 ** ((i - 2000) / 1000 + 0.0005)),
    ];
    curve.perInstance!.iterationsTo = { '0.01': Array.from({ length: 4000 }, (_, i) => (i % 7 ? i : null)) };
    const data: FigureData = { name: 'fig5', runs: [{ id: 'p', curves: [curve], summary: summaryFor('fig5', [curve]) }], validation: [] };
    const once = keptForm(data);
    expect(keptForm(once)).toEqual(once);
    writeFigureData(temp, data);
    expect(readFigureData(temp, 'fig5')).toEqual(once);
    const gaps = once.runs[0]!.curves[0]!.perInstance!.gaps[0] as number[];
    gaps.forEach((g, i) => {
      const original = curve.perInstance!.gaps[0]![i]!;
      if (original < 1e-32) expect(g).toBe(1e-32);
      else if (original > 1e32) expect(g).toBe(1e32);
      else expect(Math.abs(g / original - 1)).toBeLessThan(0.0012);
    });
  });

  it('keeps one evaluation’s curve as a figure keeps it: read back, it is the curve of the kept run', () => {
    const curve = specialCurve();
    curve.meanF[2] = Number.POSITIVE_INFINITY;
    const data: FigureData = { name: 'fig5', runs: [{ id: 'p', curves: [curve], summary: summaryFor('fig5', [curve]) }], validation: [] };
    const text = keptCurveJson({ key: 'fista-0123', weightsSha256: 'ab', curve });
    const back = curveFromKeptJson<{ key: string; weightsSha256: string; curve: EvaluationCurve }>(text);
    expect(back.key).toBe('fista-0123');
    expect(back.weightsSha256).toBe('ab');
    expect(back.curve).toEqual(keptForm(data).runs[0]!.curves[0]);
    // Made into a run again and kept, it is what the figure would have kept.
    expect(keptForm({ ...data, runs: [{ ...data.runs[0]!, curves: [back.curve] }] })).toEqual(keptForm(data));
    expect(JSON.parse(text).curve.perInstance.gaps.codes).toBe('milli-decades');
  });

  it('keeps iterations beyond Int16 as plain lists', () => {
    const curve = specialCurve();
    curve.perInstance!.iterationsTo = { '0.01': [40000, null, 3, 0] };
    const data: FigureData = { name: 'fig5', runs: [{ id: 'p', curves: [curve], summary: summaryFor('fig5', [curve]) }], validation: [] };
    expect(figureDataJson(data)).toContain('"iterationsTo":{"0.01":[40000,null,3,0]}');
    expect(keptForm(data).runs[0]!.curves[0]!.perInstance!.iterationsTo).toEqual({ '0.01': [40000, null, 3, 0] });
  });

  it('reads format 1, written before curves had per-instance results', () => {
    // An excerpt of docs/results/data/fig1.json as committed in format 1.
    const summary = {
      name: 'fig1',
      problem: { id: 'lasso', options: {} },
      trainDataset: { id: 'synthetic', options: { preset: 'toy' } },
      testDataset: { id: 'synthetic', options: { preset: 'toy' } },
      testInstances: 1024,
      iterations: 3,
      scale: 'cpu',
      seed: 0,
      engine: 'wasm+l2o-kernels',
      training: { seed: 0, unroll: 20 },
      optimizers: [
        {
          label: 'lstm',
          id: 'lstm',
          kind: 'learned',
          options: {},
          finalGap: 0.000002368769,
          finalF: 0.3693755,
          iterationsTo: { '0.01': 17, '0.001': null },
          divergedAt: null,
          parameters: 5742,
          trainingSeconds: 1054.665,
          evaluationSeconds: 18.1177,
        },
      ],
      createdAt: '2026-11-30T10:01:37.731Z',
      gitCommit: '0ca6f4204b48308f576e5ae3f12869a2241764a7',
    };
    const curve = {
      optimizer: 'lstm',
      instances: 1024,
      gapInstances: 1024,
      meanF: [2.55942, 0.8903556, 'Infinity', 0.3693755],
      meanGap: [5.929181, 1.410464, 'NaN', 0.000002368769],
      finalGap: 0.000002368769,
      iterationsTo: { '0.01': 17, '0.001': null },
      divergedAt: 2,
      seconds: 18.1177,
    };
    mkdirSync(path.join(temp, 'data'), { recursive: true });
    writeFileSync(
      figureDataPath(temp, 'fig1-v1'),
      `${JSON.stringify({ format: 1, name: 'fig1-v1', runs: [{ id: 'fig1-cpu-seed0-eba1319328', summary, curves: [curve] }], validation: [{ label: 'lstm', seed: 0, points: [{ step: 25, loss: 0.4 }] }] })}\n`,
    );
    const back = readFigureData(temp, 'fig1-v1')!;
    expect(back.runs[0]!.summary).toEqual(summary);
    const read = back.runs[0]!.curves[0]!;
    expect(read).toEqual({
      ...curve,
      meanF: [2.55942, 0.8903556, Number.POSITIVE_INFINITY, 0.3693755],
      meanGap: [5.929181, 1.410464, Number.NaN, 0.000002368769],
    });
    expect(read.gapQuantiles).toBeUndefined();
    expect(read.perInstance).toBeUndefined();
    expect(back.validation).toEqual([{ label: 'lstm', seed: 0, points: [{ step: 25, loss: 0.4 }] }]);
  });

  it('refuses a newer format or damaged per-instance results, in one line naming the file', () => {
    mkdirSync(path.join(temp, 'data'), { recursive: true });
    writeFileSync(figureDataPath(temp, 'fig6'), '{"format":3,"name":"fig6","runs":[]}');
    expect(() => readFigureData(temp, 'fig6')).toThrow(/fig6\.json is kept data of format 3; this l2o reads formats 1 and 2/);
    const curve = specialCurve();
    const text = figureDataJson({ name: 'fig6', runs: [{ id: 'p', curves: [curve], summary: summaryFor('fig6', [curve]) }], validation: [] });
    const damaged = JSON.parse(text) as { runs: { curves: { perInstance: { gaps: { data: string } } }[] }[] };
    damaged.runs[0]!.curves[0]!.perInstance.gaps.data = 'AAAA';
    writeFileSync(figureDataPath(temp, 'fig6'), JSON.stringify(damaged));
    expect(() => readFigureData(temp, 'fig6')).toThrow(/fig6\.json has damaged per-instance results/);
  });

  it('keeps a figure of 10 optimizers × 3 seeds on 1,024 instances, K = 300, under 1 MB', () => {
    const rand = random(1);
    const runs = [0, 1, 2].map((seed) => {
      const curves = Array.from({ length: 10 }, (_, o) => instanceCurve(`optimizer-${o}`, 1024, 300, rand));
      return { id: `fig7-cpu-seed${seed}`, curves, summary: summaryFor('fig7', curves, { seed, testInstances: 1024 }) };
    });
    const data: FigureData = { name: 'fig7', runs, validation: [] };
    const bytes = Buffer.byteLength(figureDataJson(data));
    expect(bytes).toBeLessThan(1_000_000);
    const back = keptForm(data);
    expect(back.runs[2]!.curves[9]!.perInstance!.iterationsTo).toEqual(runs[2]!.curves[9]!.perInstance!.iterationsTo);
    expect(back.runs[2]!.curves[9]!.perInstance!.gaps[5]).toHaveLength(1024);
  });
});

describe("a training log's validation series", () => {
  it('says which steps were skipped on a non-finite loss: those the loss history lacks, up to the last step logged', () => {
    const log = (history: number[], validation: number[]) =>
      JSON.stringify({
        history: history.flatMap((step) => [
          { step, loss: 1 },
          { step, loss: 0.9 },
        ]),
        validation: validation.map((step) => ({ step, loss: 0.5 })),
      });
    const [skipping] = validationSeriesOf(3, { 'training/lstm.json': log([1, 2, 5, 7, 8], [4, 8]), 'config.json': '{}' });
    expect(skipping).toEqual({
      label: 'lstm',
      seed: 3,
      points: [
        { step: 4, loss: 0.5 },
        { step: 8, loss: 0.5 },
      ],
      skipped: [3, 4, 6],
    });
    // A step skipped last (after the last loss) shows up through its validation; none skipped: an empty list; no history: not known.
    expect(validationSeriesOf(0, { 'training/gru.json': log([1, 2], [4]) })[0]!.skipped).toEqual([3, 4]);
    expect(validationSeriesOf(0, { 'training/gru.json': log([1, 2, 3, 4], [4]) })[0]!.skipped).toEqual([]);
    expect(validationSeriesOf(0, { 'training/gru.json': JSON.stringify({ validation: [{ step: 4, loss: 1 }] }) })[0]).not.toHaveProperty('skipped');
  });
});
