import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootPlatform, TOKENS, type EvaluationCurve, type RunRenderer, type RunSummary } from '@l2o/core';
import {
  compareRuns,
  convergenceSpec,
  convergenceSvg,
  formatGap,
  GAP_FLOOR,
  listRunDirs,
  plotTitle,
  registerReport,
  renderRun,
  renderSummaryMarkdown,
  reportRenderer,
  rerenderRun,
  svgToPng,
} from './index.js';

import { geometricCurve, summaryFor } from './test-utils/curves.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-report-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The first optimizer learned (with a parameter count and training time), the third diverged at k = 7. */
function summaryOf(name: string, curves: EvaluationCurve[]): RunSummary {
  const summary = summaryFor(name, curves);
  return {
    ...summary,
    optimizers: summary.optimizers.map((o, i) => ({
      ...o,
      kind: i === 0 ? 'learned' : 'baseline',
      divergedAt: i === 2 ? 7 : null,
      ...(i === 0 ? { parameters: 1266, trainingSeconds: 150 } : {}),
    })),
  };
}

/** A run directory as runComparison writes it, without the rendered files. */
function writeRun(name: string, curves: EvaluationCurve[]): string {
  const dir = path.join(temp, 'runs', name);
  mkdirSync(path.join(dir, 'metrics'), { recursive: true });
  writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summaryOf(name, curves)));
  for (const c of curves) writeFileSync(path.join(dir, 'metrics', `${c.optimizer}.json`), JSON.stringify(c));
  return dir;
}

const curves = [geometricCurve('gru-mha', 0.5), geometricCurve('fista', 0.7), geometricCurve('ista', 0.9)];

describe('the convergence plot', () => {
  it('draws one line per optimizer on a log axis, gaps floored at GAP_FLOOR', async () => {
    const spec = convergenceSpec([{ ...curves[0]!, meanGap: [1, 0, Number.NaN] }], 'title') as unknown as {
      data: { values: { gap: number | null }[] };
      encoding: { y: { scale: { type: string } } };
    };
    expect(spec.data.values.map((v) => v.gap)).toEqual([1, GAP_FLOOR, null]);
    expect(spec.encoding.y.scale.type).toBe('log');
    const svg = await convergenceSvg(curves, 'three optimizers');
    const lines = [...svg.matchAll(/aria-label="[^"]*optimizer: ([^"]+)" role="graphics-symbol" aria-roledescription="line mark"/g)].map((m) => m[1]);
    expect(lines.sort()).toEqual(['fista', 'gru-mha', 'ista']);
    const png = svgToPng(svg);
    expect(Buffer.from(png.subarray(0, 8)).toString('hex')).toBe('89504e470d0a1a0a');
  });
});

describe('the Markdown summary', () => {
  it('has a row per optimizer, a divergence in place of the final gap, and the plot', () => {
    const md = renderSummaryMarkdown(summaryOf('fig', curves));
    expect(md).toMatch(/^# fig$/m);
    expect(md).toContain('![convergence](convergence.png)');
    expect(md).toMatch(
      new RegExp(`^\\| gru-mha \\| ${formatGap(curves[0]!.finalGap).replace('+', '\\+')} \\| .* \\| 1,266 \\| 2\\.5 min \\| 0\\.5 s \\|$`, 'm'),
    );
    expect(md).toMatch(/^\| ista \| diverged at k = 7 \|/m);
    expect(plotTitle(summaryOf('fig', curves))).toBe('fig: lasso, trained on synthetic, tested on synthetic (4 instances)');
    const baselinesOnly = summaryOf('fig', curves);
    baselinesOnly.optimizers = baselinesOnly.optimizers.map((o) => ({ ...o, kind: 'baseline' }));
    expect(plotTitle(baselinesOnly)).toBe('fig: lasso, tested on synthetic (4 instances)');
    expect(formatGap(Number.NaN)).toBe('NaN');
  });

  it('says how many instances diverged beside the mean, and where pretrained weights come from', () => {
    const s = summaryOf('fig', curves);
    s.optimizers[0] = {
      ...s.optimizers[0]!,
      divergedAt: 70,
      medianFinalGap: 5.67e-6,
      divergedInstances: 54,
      gapInstances: 253,
      pretrained: {
        name: 'lasso-250x500',
        trainedWith: {
          problem: 'lasso',
          problemOptions: {},
          dataset: 'synthetic',
          datasetOptions: { preset: 'paper' },
          spec: 'experiments/paper/fig1.yaml',
          scale: 'paper',
          seed: 0,
          commit: 'd1daed7aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
          engine: 'wasm+l2o-kernels',
          globalSteps: 500,
          batchSize: 64,
          bestValidation: 3.73961234,
          bestStep: 480,
        },
      },
    };
    s.optimizers[1] = { ...s.optimizers[1]!, medianFinalGap: 1e-3, divergedInstances: 0, gapInstances: 253 };
    const md = renderSummaryMarkdown(s);
    expect(md).toMatch(/^\| gru-mha \| diverged at k = 70 \| 5\.67e-6 \| 54 of 253 instances \|/m);
    expect(md).toMatch(/^\| fista \| [^|]+ \| 1\.00e-3 \| 0 of 253 instances \|/m);
    // Summaries without per-instance counts (ista here, older runs) show a dash.
    expect(md).toMatch(/^\| ista \| diverged at k = 7 \| — \| — \|/m);
    expect(md).toContain(
      "- gru-mha: pretrained weights 'lasso-250x500', trained by experiments/paper/fig1.yaml at paper scale, lasso on synthetic (preset=paper), seed 0: 500 steps of 64, best validation 3.7396 at step 480 (commit d1daed7, wasm+l2o-kernels).",
    );
    // Its only learned optimizer was trained elsewhere: the run trained on nothing.
    expect(md).toMatch(/^Problem `lasso`, tested on `synthetic`/m);
    expect(plotTitle(s)).toBe('fig: lasso, tested on synthetic (4 instances)');
    expect(renderSummaryMarkdown(summaryOf('fig', curves))).not.toContain('median final gap');
  });
});

describe('run directories', () => {
  it('renders, re-renders and compares runs', async () => {
    const a = writeRun('a', curves);
    const b = writeRun('b', curves.slice(1));
    const files = await renderRun(summaryOf('a', curves), curves);
    expect(Object.keys(files).sort()).toEqual(['convergence.png', 'convergence.svg', 'summary.md']);
    expect(await reportRenderer.render(summaryOf('a', curves), curves)).toEqual(files);

    expect((await rerenderRun(a)).sort()).toEqual(['convergence.png', 'convergence.svg', 'summary.md']);
    expect(readFileSync(path.join(a, 'summary.md'), 'utf8')).toBe(files['summary.md']);
    expect(listRunDirs(path.join(temp, 'runs')).sort()).toEqual([a, b]);

    const { markdown, rows } = compareRuns([a, b]);
    expect(rows.find((r) => r.optimizer === 'gru-mha')).toEqual({ optimizer: 'gru-mha', a: curves[0]!.finalGap, b: null });
    expect(markdown).toMatch(/^\| gru-mha \| [\d.e+-]+ \| — \|$/m);
    expect(() => compareRuns([temp])).toThrow(/is not a run directory/);
  });

  it('registers its renderer under TOKENS.RunRenderer when the platform boots', async () => {
    const settings = { backend: 'cpu' as const, searchFrom: [temp], cacheDir: path.join(temp, 'cache') };
    const bare = await bootPlatform(settings);
    expect(bare.container.isRegistered(TOKENS.RunRenderer, true)).toBe(false);
    const platform = await bootPlatform(settings, { register: registerReport });
    expect(platform.container.resolve<RunRenderer>(TOKENS.RunRenderer)).toBe(reportRenderer);
  });
});
