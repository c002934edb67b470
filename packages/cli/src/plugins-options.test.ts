import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './test-utils/run-cli.js';

interface OptionInfo {
  name: string;
  default?: unknown;
  defaultText: string;
  description: string;
}
type Listing = { package: string; registers: Record<string, string[]>; options?: Record<string, Record<string, OptionInfo[] | null>> }[];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'l2o-plugins-options-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('l2o plugins --options', () => {
  it('lists the options of every plugin of every kind, with defaults, from the declared fields (--json)', () => {
    const r = runCli(['plugins', '--options', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plugins = JSON.parse(r.stdout) as Listing;
    const of = (kind: string, id: string) => plugins.map((p) => p.options?.[kind]?.[id]).find((o) => o !== undefined);
    const option = (kind: string, id: string, name: string) => of(kind, id)?.find((o) => o.name === name);
    expect(option('model', 'gru-mha', 'attention.heads')).toMatchObject({ default: 4, defaultText: '4', description: expect.stringMatching(/heads/) });
    expect(option('model', 'lstm', 'hidden')).toMatchObject({ default: 20 });
    expect(option('optimizer', 'adam', 'lr')).toMatchObject({ default: 0.01 });
    expect(option('optimizer', 'sgd', 'lr')).not.toHaveProperty('default');
    expect(option('problem', 'logistic-l1', 'lipschitz')).toMatchObject({ default: 'tight' });
    expect(of('problem', 'lasso')).toEqual([]);
    expect(option('dataset', 'synthetic', 'preset')).toMatchObject({ default: 'paper' });
    expect(option('dataset', 'synthetic', 'm')).toMatchObject({ defaultText: 'from preset' });
    expect(option('dataset', 'bsds500', 'atoms')).toMatchObject({ default: 128 });
    expect(option('dataset', 'ionosphere', 'lambda')).toMatchObject({ default: 0.1 });
    // Every built-in plugin declares its options (pretrained weights take none: they are data).
    for (const p of plugins.filter((q) => q.package.startsWith('@l2o/'))) {
      for (const [kind, ids] of Object.entries(p.registers)) {
        if (kind === 'pretrained') continue;
        for (const id of ids) expect(p.options?.[kind]?.[id], `${kind} ${id}`).not.toBeNull();
      }
    }
  });

  it('prints them as text too, and not without --options', () => {
    const r = runCli(['plugins', '--options']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ {2}model gru-mha\n(?: {4}.*\n)*? {4}attention\.heads \(default 4\): /);
    expect(r.stdout).toMatch(/ {2}optimizer adam\n {4}lr \(default 0\.01\): /);
    expect(r.stdout).toMatch(/ {4}preset \(default "paper"\): /);
    expect(r.stdout).toContain('problem lasso: no options');
    expect(runCli(['plugins']).stdout).not.toContain('attention.heads');
  });
});

describe('a bad plugin option', () => {
  const run = (args: string[]) => runCli(['run', '--scale', 'smoke', '--cache-dir', path.join(tmp, 'cache'), '--runs-dir', path.join(tmp, 'runs'), ...args]);

  it.each([
    [
      'optimizer',
      ['--optimizer', 'adam', '-o', 'adam.lrr=0.1', '--problem', 'lasso', '--dry-run'],
      /Unknown option 'lrr' for optimizer 'adam'\. Did you mean 'lr'\? Known options: lr, beta1, beta2, eps\./,
    ],
    [
      'model',
      ['--model', 'gru-mha', '-o', 'gru-mha.attention.hedas=2', '--problem', 'lasso', '--dry-run'],
      /Unknown option 'attention\.hedas' for model 'gru-mha'\. Did you mean 'attention\.heads'\?/,
    ],
    [
      'problem',
      ['--optimizer', 'ista', '-o', 'logistic-l1.lipshitz=paper', '--problem', 'logistic-l1', '--dry-run'],
      /Unknown option 'lipshitz' for problem 'logistic-l1'\. Did you mean 'lipschitz'\?/,
    ],
    [
      'dataset',
      ['--optimizer', 'ista', '-o', 'synthetic.preest=toy', '--problem', 'lasso'],
      /Unknown option 'preest' for dataset 'synthetic'\. Did you mean 'preset'\? Known options: preset, m, n, s, lambda, sharedA\./,
    ],
    [
      'dataset value',
      ['--optimizer', 'ista', '-o', 'synthetic.preset=tyo', '--problem', 'lasso'],
      /Option 'preset' of dataset 'synthetic' must be one of 'paper', 'toy', got "tyo"\. Did you mean 'toy'\?/,
    ],
  ])('on a %s exits 2 naming it, with a did-you-mean', (_kind, args, message) => {
    const r = run(args);
    expect(r.code, r.stderr).toBe(2);
    expectOneLineError(r.stderr, message);
  });
});
