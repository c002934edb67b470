import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { L2oError } from '../errors.js';
import type { InstanceSet } from '../contracts/instances.js';
import { loadInstances, saveInstances } from './instance-store.js';
import { encodeNpy, readNpy } from './npy.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-instances-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const [count, m, n] = [3, 4, 6];

function tinySet(): InstanceSet {
  const values = (k: number, seed: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(seed + i * 0.7));
  return {
    problem: 'lasso',
    count,
    m,
    n,
    lambda: 0.1,
    sharedA: false,
    A: values(count * m * n, 1),
    b: values(count * m, 2),
    xTrue: values(count * n, 3),
    fStar: Float64Array.from([1.5, 2.25, Math.PI]),
    meta: { dataset: 'tiny' },
  };
}

let folders = 0;
/** A valid folder written by saveInstances, to be corrupted by a test. */
async function validFolder(): Promise<{ dir: string; set: InstanceSet }> {
  const dir = path.join(temp, `set-${folders++}`);
  const set = tinySet();
  await saveInstances(
    dir,
    set,
    Float32Array.from({ length: count * n }, (_, i) => i / 10),
  );
  return { dir, set };
}

/** The L2oError `fn` throws (fails the test if it throws anything else), as one line. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(L2oError);
    const line = (e as L2oError).oneLine();
    expect(line).not.toContain('\n');
    return line;
  }
  throw new Error('expected an L2oError');
}

function editJson(dir: string, edit: (j: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'instances.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

/** A .npy file with a hand-written header dict (padded as numpy pads it) and raw data bytes. */
function rawNpy(dict: string, payload: Uint8Array): Uint8Array {
  let header = dict;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(payload, 10 + header.length);
  return out;
}

const bytesOf = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('instance store', () => {
  it('round-trips a set with F* and a solution', async () => {
    const { dir, set } = await validFolder();
    const back = loadInstances(dir);
    expect(Array.from(back.A)).toEqual(Array.from(set.A));
    expect(Array.from(back.b)).toEqual(Array.from(set.b));
    expect(Array.from(back.xTrue!)).toEqual(Array.from(set.xTrue!));
    expect(Array.from(back.fStar!)).toEqual(Array.from(set.fStar!));
    expect(back.solution).toHaveLength(count * n);
    expect([back.problem, back.count, back.m, back.n, back.lambda, back.sharedA, back.meta]).toEqual(['lasso', 3, 4, 6, 0.1, false, { dataset: 'tiny' }]);
  });

  it('refuses an array whose shape does not match instances.json, naming the file and both shapes', async () => {
    const { dir, set } = await validFolder();
    // Same number of values, transposed: [count, n, m] instead of [count, m, n].
    writeFileSync(path.join(dir, 'A.npy'), encodeNpy(set.A, [count, n, m]));
    expect(errorOf(() => loadInstances(dir))).toMatch(
      /A\.npy has shape \[3, 6, 4\], expected \[3, 4, 6\] \(count, m, n from instances\.json\)\. Is it transposed\?$/,
    );

    const other = await validFolder();
    writeFileSync(path.join(other.dir, 'b.npy'), encodeNpy(other.set.b, [count * m]));
    expect(errorOf(() => loadInstances(other.dir))).toMatch(/b\.npy has shape \[12\], expected \[3, 4\]/);

    const shared = await validFolder();
    editJson(shared.dir, (j) => (j.sharedA = true)); // A.npy is still one matrix per instance
    expect(errorOf(() => loadInstances(shared.dir))).toMatch(/A\.npy has shape \[3, 4, 6\], expected \[4, 6\] \(m, n from/);
  });

  it('refuses an array listed in instances.json but missing on disk', async () => {
    const { dir } = await validFolder();
    unlinkSync(path.join(dir, 'A.npy'));
    expect(errorOf(() => loadInstances(dir))).toMatch(/A\.npy is missing, but instances\.json lists 'A' in "arrays"/);
  });

  it('refuses a truncated or invalid instances.json, naming it', async () => {
    const { dir } = await validFolder();
    const file = path.join(dir, 'instances.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.slice(0, text.length / 2));
    expect(errorOf(() => loadInstances(dir))).toMatch(/instances\.json is not valid JSON: /);
    writeFileSync(file, '[1, 2]');
    expect(errorOf(() => loadInstances(dir))).toMatch(/instances\.json must hold a JSON object/);

    const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.count = 0), /"count" must be a positive integer, got 0/],
      [(j) => (j.m = 2.5), /"m" must be a positive integer, got 2\.5/],
      [(j) => (j.n = '6'), /"n" must be a positive integer, got "6"/],
      [(j) => delete j.count, /"count" must be a positive integer, got nothing/],
      [(j) => (j.lambda = -0.1), /"lambda" must be a finite number ≥ 0, got -0\.1/],
      [(j) => (j.lambda = null), /"lambda" must be a finite number ≥ 0, got null/],
      [(j) => (j.problem = 7), /"problem" must be a problem id \(a string\), got 7/],
      [(j) => (j.arrays = 'A,b'), /"arrays" must be a list of array names/],
      [(j) => (j.arrays = ['A']), /"arrays" must list 'b'/],
      [(j) => (j.arrays = ['A', 'b', 'fstar']), /"arrays" lists unknown array 'fstar'/],
      [(j) => (j.sharedA = 'no'), /"sharedA" must be true or false/],
      [(j) => (j.format = 'l2o-instances/2'), /has format "l2o-instances\/2", expected 'l2o-instances\/1'/],
    ];
    for (const [edit, message] of cases) {
      const folder = await validFolder();
      editJson(folder.dir, edit);
      const line = errorOf(() => loadInstances(folder.dir));
      expect(line).toContain(path.join(folder.dir, 'instances.json'));
      expect(line).toMatch(message);
    }
  });

  it('refuses non-finite F*, naming the file and the first bad index', async () => {
    for (const [bad, shown] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const { dir } = await validFolder();
      writeFileSync(path.join(dir, 'f_star.npy'), encodeNpy(Float64Array.from([1, bad, bad]), [count]));
      expect(errorOf(() => loadInstances(dir))).toMatch(new RegExp(`f_star\\.npy holds a non-finite value \\(${shown}\\) at index 1\\.`));
    }
    // Negative F* is the problem's to judge (problem.validate), not the format's.
    const { dir } = await validFolder();
    writeFileSync(path.join(dir, 'f_star.npy'), encodeNpy(Float64Array.from([-1, 0, 2]), [count]));
    expect(Array.from(loadInstances(dir).fStar!)).toEqual([-1, 0, 2]);
  });

  it('reads Fortran-order arrays into C order', async () => {
    const { dir, set } = await validFolder();
    // numpy.asfortranarray(A): element (i, r, c) at i + count·(r + m·c).
    const fortran = new Float32Array(count * m * n);
    for (let i = 0; i < count; i++) for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) fortran[i + count * (r + m * c)] = set.A[(i * m + r) * n + c]!;
    writeFileSync(path.join(dir, 'A.npy'), rawNpy(`{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4, 6), }`, bytesOf(fortran)));
    expect(readNpy(path.join(dir, 'A.npy')).shape).toEqual([3, 4, 6]);
    expect(Array.from(loadInstances(dir).A)).toEqual(Array.from(set.A));
  });

  it('accepts float64 data and refuses other dtypes, naming the file', async () => {
    const { dir, set } = await validFolder();
    writeFileSync(path.join(dir, 'A.npy'), encodeNpy(Float64Array.from(set.A), [count, m, n]));
    writeFileSync(path.join(dir, 'f_star.npy'), encodeNpy(Float32Array.from([1, 2, 3]), [count]));
    const back = loadInstances(dir);
    expect(back.A).toBeInstanceOf(Float32Array);
    expect(Array.from(back.A)).toEqual(Array.from(set.A));
    expect(back.fStar).toBeInstanceOf(Float64Array);

    writeFileSync(path.join(dir, 'b.npy'), rawNpy(`{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }`, new Uint8Array(48)));
    expect(errorOf(() => loadInstances(dir))).toMatch(/b\.npy: unsupported dtype '<i4'/);
  });

  it('refuses a truncated .npy, naming it', async () => {
    const { dir } = await validFolder();
    const file = path.join(dir, 'A.npy');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    expect(errorOf(() => loadInstances(dir))).toMatch(/A\.npy: truncated \.npy file: shape \[3, 4, 6\] float32 needs 288 bytes of data, the file has 283\./);
  });
});
