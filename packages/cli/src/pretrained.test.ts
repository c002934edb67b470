import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '@l2o/core';
import { expectOneLineError, runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-pretrained-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

interface PretrainedRow {
  model: string;
  name: string;
  checkpoint: string;
  trainedWith: { problem: string; scale: string; seed: number };
}

describe('l2o run --pretrained', () => {
  it('lists the installed pretrained weights with how each was trained', () => {
    const r = runCli(['models', '--pretrained', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as PretrainedRow[];
    const mine = rows.find((p) => p.model === 'gru-mha' && p.name === 'lasso-20x40')!;
    expect(mine.trainedWith).toMatchObject({ problem: 'lasso', scale: 'cpu', seed: 0 });
    expect(rows.filter((p) => p.model === 'gru-mha' && p.name.startsWith('lasso-20x40')).map((p) => p.trainedWith.seed)).toEqual([0, 1, 2]);
  });

  it('evaluates the weights with no training: the run records the pretrained checkpoint, and its numbers are those of --checkpoint with the same file', () => {
    const list = JSON.parse(runCli(['models', '--pretrained', '--json']).stdout) as PretrainedRow[];
    const file = list.find((p) => p.model === 'lstm' && p.name === 'lasso-20x40')!.checkpoint;
    const common = [
      '--problem',
      'lasso',
      '--scale',
      'smoke',
      '--against',
      'fista',
      '--runs-dir',
      path.join(temp, 'runs'),
      '--cache-dir',
      path.join(temp, 'cache'),
      '--json',
    ];
    const pretrained = runCli(['run', '--model', 'lstm', '--pretrained', 'lasso-20x40', ...common]);
    expect(pretrained.code, pretrained.stderr).toBe(0);
    expect(pretrained.stderr).not.toMatch(/train lstm/i);
    // The model is built from the checkpoint's config (its options), as --checkpoint needs them given.
    const { config } = readCheckpoint(file);
    const options = Object.entries(config).map(([key, value]) => `lstm.${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    const given = runCli(['run', '--model', 'lstm', '--checkpoint', file, ...options.flatMap((o) => ['-o', o]), ...common]);
    expect(given.code, given.stderr).toBe(0);
    type Result = { runDir: string; curves: { optimizer: string; meanF: number[]; meanGap: number[] }[] };
    const [a, b] = [pretrained, given].map((r) => JSON.parse(r.stdout) as Result);
    const numbers = (r: Result) => r.curves.map(({ optimizer, meanF, meanGap }) => ({ optimizer, meanF, meanGap }));
    expect(numbers(a!)).toEqual(numbers(b!));
    const gaps = a!.curves.find((c) => c.optimizer === 'lstm')!.meanGap;
    expect(gaps.at(-1)!).toBeLessThan(gaps[0]! / 10);
    // The run names the weights it evaluated, and keeps them.
    const runConfig = JSON.parse(readFileSync(path.join(a!.runDir, 'config.json'), 'utf8')) as { spec: { optimizers: { id: string; pretrained?: string }[] } };
    expect(runConfig.spec.optimizers[0]).toMatchObject({ id: 'lstm', pretrained: 'lasso-20x40' });
    expect(readCheckpoint(path.join(a!.runDir, 'checkpoints/lstm.json')).weightsSha256).toBe(readCheckpoint(file).weightsSha256);
  });

  it('refuses an unknown name, a --pretrained without --model, and one beside --checkpoint, in one line each', () => {
    const unknown = runCli(['run', '--model', 'gru-mha', '--pretrained', 'lasso-250x501', '--problem', 'lasso', '--scale', 'smoke']);
    expect(unknown.code).toBe(2);
    expectOneLineError(unknown.stderr, /No pretrained 'lasso-250x501' for model 'gru-mha'\. .*Pretrained for gru-mha: lasso-20x40, /);
    const noModel = runCli(['run', '--optimizer', 'fista', '--pretrained', 'lasso-20x40', '--problem', 'lasso', '--scale', 'smoke']);
    expect(noModel.code).toBe(2);
    expectOneLineError(noModel.stderr, /--pretrained needs a --model/);
    const both = runCli(['run', '--model', 'gru-mha', '--pretrained', 'lasso-20x40', '--checkpoint', 'x.json', '--problem', 'lasso']);
    expect(both.code).toBe(2);
    expectOneLineError(both.stderr, /--checkpoint=x\.json cannot also be provided when using --pretrained|cannot also be provided/);
  });
});
