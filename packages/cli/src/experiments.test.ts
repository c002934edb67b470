import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DATASETS, runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-experiments-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const dirs = ['--runs-dir', path.join(temp, 'runs'), '--cache-dir', path.join(temp, 'cache')];

/** Decodes a PNG's pixel stream: signature, IHDR, the concatenated IDAT inflated to h·(1 + w·bpp) bytes. */
function decodePng(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      expect(data[8]).toBe(8); // bit depth
      channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[data[9]!] ?? 0;
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  expect(inflateSync(Buffer.concat(idat)).length).toBe(height * (1 + width * channels));
  return { width, height };
}

// Figures 2, 4, 6 and 7 test on the real data sets: they run where the full sets are (CI has them).
const dataDir = process.env.L2O_DATA_DIR || SHARED_DATASETS;
const fullData = existsSync(path.join(dataDir, 'uci/spambase.data')) && existsSync(path.join(dataDir, 'bsds500/images/test'));
if (!fullData) console.warn(`experiments.test: skipping figures 2, 4, 6, 7: no full data sets in ${dataDir} (set L2O_DATA_DIR)`);
const env = { L2O_DATA_DIR: dataDir };

// The ablation specs beside the paper's (evaluated over the figures' cached trainings): each must
// plan at the scale its results were measured at.
describe.each(readdirSync(path.join(REPO_ROOT, 'experiments/ablations')).filter((f) => f.endsWith('.yaml')))('experiments/ablations/%s', (file) => {
  it.skipIf(!fullData)('passes every check of a cpu-scale run (--dry-run)', () => {
    const r = runCli(['experiment', 'run', path.join(REPO_ROOT, 'experiments/ablations', file), '--scale', 'cpu', '--dry-run', ...dirs], { env });
    expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
    expect(r.code).toBe(0);
  });
});

// The campaigns (the papers' figures at their scales, the pilot): every entry's spec, scale and
// option plans, with nothing run.
describe.each(readdirSync(path.join(REPO_ROOT, 'experiments/campaigns')).filter((f) => f.endsWith('.yaml')))('experiments/campaigns/%s', (file) => {
  it.skipIf(!fullData)('plans every entry (--dry-run)', () => {
    const state = mkdtempSync(path.join(os.tmpdir(), 'l2o-campaign-plan-'));
    try {
      const r = runCli(['campaign', 'run', path.join(REPO_ROOT, 'experiments/campaigns', file), '--dry-run', '--state', state, ...dirs], { env });
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/dry run: nothing started/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe.each(['fig1', 'fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'fig7'])('experiments/paper/%s.yaml at smoke scale', (fig) => {
  it.skipIf(!fullData && ['fig2', 'fig4', 'fig6', 'fig7'].includes(fig))('writes every file of the run directory with consistent content', () => {
    const r = runCli(['experiment', 'run', path.join(REPO_ROOT, `experiments/paper/${fig}.yaml`), '--scale', 'smoke', '--json', ...dirs], { env });
    expect(r.stderr.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
    expect(r.code).toBe(0);
    const { runDir, summary } = JSON.parse(r.stdout) as {
      runDir: string;
      summary: {
        optimizers: {
          label: string;
          kind: string;
          options: Record<string, unknown>;
          acceptance?: number;
          problemOptions?: Record<string, unknown>;
          finalGap: number;
        }[];
        iterations: number;
        testData?: { files: number; manifestSha256: string };
      };
    };
    // The run names the raw files its real test set came from: their manifest's SHA-256, recomputed
    // here from the files themselves.
    const bsds500 = () =>
      readdirSync(path.join(dataDir, 'bsds500/images/test'))
        .filter((f) => f.endsWith('.jpg'))
        .map((f) => `bsds500/images/test/${f}`);
    const rawFiles: Record<string, () => string[]> = { fig2: bsds500, fig4: bsds500, fig6: () => ['uci/ionosphere.data'], fig7: () => ['uci/spambase.data'] };
    const expectedFiles = rawFiles[fig]?.();
    if (expectedFiles) {
      const manifest = [...expectedFiles]
        .sort()
        .map(
          (f) =>
            `${f} ${createHash('sha256')
              .update(readFileSync(path.join(dataDir, f)))
              .digest('hex')}\n`,
        )
        .join('');
      expect(summary.testData).toMatchObject({ files: expectedFiles.length, manifestSha256: createHash('sha256').update(manifest).digest('hex') });
    } else {
      expect(summary.testData).toBeUndefined();
    }
    const files = readdirSync(runDir, { recursive: true }).map(String);
    const labels = summary.optimizers.map((o) => o.label);
    const expected = [
      'config.json',
      'summary.json',
      'summary.md',
      'convergence.svg',
      'convergence.png',
      ...labels.flatMap((l) => [`metrics/${l}.csv`, `metrics/${l}.json`]),
    ];
    expect(files).toEqual(expect.arrayContaining(expected));
    for (const o of summary.optimizers.filter((x) => x.kind === 'learned')) expect(files).toContain(`checkpoints/${o.label}.json`);
    // The logistic figures run ISTA and FISTA with both step-size rules: the paper's L = ‖A‖₂ and the
    // tight ‖A‖₂²/(4m), which is smaller here, so the tight rule's larger steps converge further.
    if (['fig5', 'fig6', 'fig7'].includes(fig)) {
      for (const id of ['ista', 'fista']) {
        const paper = summary.optimizers.find((o) => o.label === id)!;
        const tight = summary.optimizers.find((o) => o.label === `${id}-tight`)!;
        expect(paper.problemOptions).toBeUndefined();
        expect(tight.problemOptions).toEqual({ lipschitz: 'tight' });
        expect(tight.finalGap, id).toBeLessThan(paper.finalGap);
      }
    }
    for (const o of summary.optimizers) {
      const csv = readFileSync(path.join(runDir, `metrics/${o.label}.csv`), 'utf8')
        .trim()
        .split('\n');
      expect(csv).toHaveLength(summary.iterations + 2);
      // A safeguarded optimizer (options.safeguard, the figures' *-safe) adds the share of kept learned steps per iteration.
      const safeguarded = typeof o.options.safeguard === 'string' && o.options.safeguard !== 'none';
      expect(o.acceptance !== undefined, o.label).toBe(safeguarded);
      if (safeguarded) {
        expect(csv[0]).toBe('iteration,mean_f,mean_rel_gap,accepted');
        const kept = csv.slice(2).map((row) => Number(row.split(',')[3]));
        expect(
          kept.every((v) => v >= 0 && v <= 1),
          o.label,
        ).toBe(true);
        expect(o.acceptance).toBeCloseTo(kept.reduce((a, b) => a + b, 0) / kept.length, 12);
      } else {
        expect(csv[0]).toBe('iteration,mean_f,mean_rel_gap');
        expect(csv.slice(1).every((row) => row.split(',').length === 3)).toBe(true);
      }
    }
    const svg = readFileSync(path.join(runDir, 'convergence.svg'), 'utf8');
    // vega draws one line mark per optimizer: a <path> with aria-roledescription="line mark".
    const lines = [...svg.matchAll(/<path aria-label="[^"]*optimizer: ([^"]+)" role="graphics-symbol" aria-roledescription="line mark"/g)].map((m) => m[1]);
    expect(lines.sort()).toEqual([...labels].sort());
    for (const label of labels) expect(svg).toContain(`>${label}</text>`);
    const png = decodePng(readFileSync(path.join(runDir, 'convergence.png')));
    expect(png.width).toBeGreaterThan(500);
    const md = readFileSync(path.join(runDir, 'summary.md'), 'utf8');
    for (const label of labels) expect(md).toMatch(new RegExp(`^\\| ${label} \\|`, 'm'));
  });
});

// The README's headline with the papers' weights: the paper's model (attention over the
// coordinates) as figure 1 trained it at 250×500, tested out of distribution with no training.
describe('l2o run --model gru-mha --pretrained lasso-250x500 --problem lasso --dataset bsds500', () => {
  it.skipIf(!fullData)("evaluates the papers'-scale weights with no training; they end far below FISTA's median gap", () => {
    const r = runCli(['run', '--model', 'gru-mha', '--pretrained', 'lasso-250x500', '--problem', 'lasso', '--dataset', 'bsds500', '--json', ...dirs], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/train gru-mha/i);
    type Row = {
      label: string;
      options?: { attention?: { axis: string } };
      medianFinalGap: number;
      divergedInstances: number;
      gapInstances: number;
      pretrained?: { name: string; trainedWith: { scale: string; datasetOptions: Record<string, unknown>; globalSteps: number; batchSize: number } };
    };
    const { summary } = JSON.parse(r.stdout) as { summary: { testDataset: { id: string }; optimizers: Row[] } };
    expect(summary.testDataset.id).toBe('bsds500');
    const row = (label: string) => summary.optimizers.find((o) => o.label === label)!;
    const mha = row('gru-mha');
    expect(mha.options?.attention?.axis).toBe('coordinates');
    expect(mha.pretrained).toMatchObject({
      name: 'lasso-250x500',
      trainedWith: { scale: 'paper', datasetOptions: { preset: 'paper' }, globalSteps: 500, batchSize: 64 },
    });
    // Untrained or mismatched weights neither converge like this nor keep every instance finite.
    expect(mha.medianFinalGap).toBeLessThan(row('fista').medianFinalGap / 100);
    expect(mha.divergedInstances).toBeLessThanOrEqual(Math.ceil(0.02 * mha.gapInstances));
  });
});

describe('experiment specs', () => {
  const bad = (name: string, yaml: string) => {
    const file = path.join(temp, `${name}.yaml`);
    writeFileSync(file, yaml);
    return runCli(['experiment', 'run', file, '--scale', 'smoke', ...dirs], { env });
  };
  const base = 'name: bad\nproblem: { id: lasso }\ntest: { dataset: synthetic }\n';
  it.each([
    ['unknown key', `${base}optimizers:\n  - { id: fista, colour: red }\n`, /.yaml:5: optimizers\[0\]\.colour: unknown key 'colour'\./],
    ['wrong type', `${base}optimizers:\n  - { id: fista }\nseed: one\n`, /.yaml:6: seed: expected integer\./],
    [
      'unknown plugin id',
      `${base}optimizers:\n  - { id: fista }\n  - { id: gru-mah }\n`,
      /.yaml:6: optimizers\[1\]\.id: Unknown optimizer or model 'gru-mah'\. Did you mean 'gru-mha'\?/,
    ],
    [
      'dataset not serving the problem',
      'name: bad\nproblem: { id: lasso }\ntest: { dataset: ionosphere }\noptimizers:\n  - { id: fista }\n',
      /.yaml:3: test\.dataset: dataset 'ionosphere' does not serve problem 'lasso'\./,
    ],
    ['missing key', 'name: bad\nproblem: { id: lasso }\noptimizers:\n  - { id: fista }\n', /.yaml:1: \(top level\): missing key 'test'\./],
  ])('rejects a spec with %s, naming file, path and expectation', (_case, yaml, message) => {
    const r = bad(_case.replace(/ /g, '-'), yaml.replace('name: bad', 'name: bad'));
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('Error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });
});
