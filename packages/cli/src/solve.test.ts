import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '@l2o/core';
import { runCli, expectOneLineError } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-solve-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const exported = path.join(temp, 'export');

/** Nothing was written beside `out`: neither the folder nor a temporary one. */
function expectNothingWritten(out: string, before: string[]): void {
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(path.dirname(out)).sort()).toEqual(before);
}

beforeAll(() => {
  const r = runCli(['export', '--problem', 'lasso', '--dataset', 'synthetic', '--scale', 'smoke', '--out', exported, '--cache-dir', path.join(temp, 'cache')]);
  expect(r.code, r.stderr).toBe(0);
});

describe('l2o solve', () => {
  it('refuses a transposed A.npy with one line naming the file and both shapes, writing nothing', () => {
    const input = path.join(temp, 'transposed');
    cpSync(exported, input, { recursive: true });
    const { count, m, n } = JSON.parse(readFileSync(path.join(input, 'instances.json'), 'utf8')) as { count: number; m: number; n: number };
    const A = readNpy(path.join(input, 'A.npy'));
    expect(A.shape).toEqual([count, m, n]);
    // Transpose every matrix, as a column-major writer might: [count, n, m].
    const t = new Float32Array(A.data.length);
    for (let i = 0; i < count; i++) for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) t[(i * n + c) * m + r] = A.data[(i * m + r) * n + c]!;
    writeFileSync(path.join(input, 'A.npy'), encodeNpy(t, [count, n, m]));

    const out = path.join(temp, 'solved-transposed');
    const before = readdirSync(temp).sort();
    const r = runCli(['solve', '--input', input, '--optimizer', 'fista', '--iterations', '50', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(r.stderr, new RegExp(`A\\.npy has shape \\[${count}, ${n}, ${m}\\], expected \\[${count}, ${m}, ${n}\\]`));
    expect(r.stdout).toBe('');
    expectNothingWritten(out, before);
  });

  it('refuses an --out that exists or lies under a file before any work, leaving nothing behind', () => {
    const file = path.join(temp, 'a-file');
    writeFileSync(file, 'keep me');
    const before = readdirSync(temp).sort();

    const existing = runCli(['solve', '--input', exported, '--optimizer', 'fista', '--iterations', '50', '--out', file]);
    expect(existing.code, existing.stderr).toBe(2);
    expectOneLineError(existing.stderr, /a-file already exists/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expect(readdirSync(temp).sort()).toEqual(before);

    const existingDir = runCli(['solve', '--input', exported, '--optimizer', 'fista', '--iterations', '50', '--out', exported]);
    expect(existingDir.code, existingDir.stderr).toBe(2);
    expectOneLineError(existingDir.stderr, /export already exists/);

    const under = runCli(['solve', '--input', exported, '--optimizer', 'fista', '--iterations', '50', '--out', path.join(file, 'out')]);
    expect(under.code, under.stderr).toBe(2);
    expectOneLineError(under.stderr, /a-file[/\\]out\b.*a-file.* a file, not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    // Missing folders on the way are created, as for every output of l2o.
    const noParent = path.join(temp, 'missing', 'out');
    const missing = runCli(['solve', '--input', exported, '--optimizer', 'fista', '--iterations', '50', '--out', noParent]);
    expect(missing.code, missing.stderr).toBe(0);
    expect(existsSync(path.join(noParent, 'result.json'))).toBe(true);
    rmSync(path.join(temp, 'missing'), { recursive: true });
    expect(readdirSync(temp).sort()).toEqual(before);

    // The output is checked before the input is even read.
    const both = runCli(['solve', '--input', path.join(temp, 'no-such-input'), '--optimizer', 'fista', '--out', file]);
    expectOneLineError(both.stderr, /a-file already exists/);
  });

  it('asks for --checkpoint with a learned optimizer as bad usage (exit 2), before reading the input', () => {
    const out = path.join(temp, 'solved-gru');
    const before = readdirSync(temp).sort();
    const r = runCli(['solve', '--input', path.join(temp, 'no-such-input'), '--optimizer', 'gru', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expectOneLineError(r.stderr, /'gru' is a learned optimizer\. Give its --checkpoint\./);
    expectNothingWritten(out, before);
  });
});
