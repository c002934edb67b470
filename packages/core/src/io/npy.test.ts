import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { L2oError } from '../errors.js';
import { decodeNpy, encodeNpy, readNpy } from './npy.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-npy-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A .npy file with a hand-written header dict (padded as numpy pads it) and raw data bytes. */
function rawNpy(dict: string, payload: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const header = dict + ' '.repeat((64 - ((pre + dict.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), pre);
  out.set(payload, pre + header.length);
  return out;
}

/** The one-line L2oError message `fn` throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(L2oError);
    expect((e as L2oError).oneLine()).not.toContain('\n');
    return (e as L2oError).oneLine();
  }
  throw new Error('expected an L2oError');
}

describe('npy', () => {
  it('round-trips float32 and float64 with the header numpy expects', () => {
    const f32 = new Float32Array([1.5, -2, 3.25, 0, 1e-30, 7]);
    const bytes = encodeNpy(f32, [2, 3]);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('\x93NUMPY\x01\x00');
    const headerLength = bytes[8]! + 256 * bytes[9]!;
    expect((10 + headerLength) % 64).toBe(0);
    expect(Buffer.from(bytes.subarray(10, 10 + headerLength)).toString()).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(f32));
    const f64 = new Float64Array([Math.PI, -1e300]);
    const back64 = decodeNpy(encodeNpy(f64, [2]));
    expect(back64.data).toBeInstanceOf(Float64Array);
    expect(Array.from(back64.data)).toEqual([Math.PI, -1e300]);
  });

  it('rejects mismatched shapes and foreign files', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values/);
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a .npy file/);
  });

  it('refuses truncated and malformed files with one line naming the file', () => {
    const good = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const name = 'X.npy';
    expect(errorOf(() => decodeNpy(new Uint8Array(0), name))).toMatch(/^X\.npy is not a \.npy file/);
    expect(errorOf(() => decodeNpy(Buffer.from('{"json": true}'), name))).toMatch(/^X\.npy is not a \.npy file/);
    expect(errorOf(() => decodeNpy(good.subarray(0, 9), name))).toMatch(/^X\.npy: truncated \.npy file/);
    const dataStart = good.length - 24;
    expect(errorOf(() => decodeNpy(good.subarray(0, 40), name))).toMatch(
      new RegExp(`^X\\.npy: truncated \\.npy file: the header needs ${dataStart} bytes, the file has 40\\.`),
    );
    // Data cut mid-value, cut at a value boundary, and too long.
    expect(errorOf(() => decodeNpy(good.subarray(0, good.length - 3), name))).toMatch(
      /^X\.npy: truncated \.npy file: shape \[2, 3\] float32 needs 24 bytes of data, the file has 21\./,
    );
    expect(errorOf(() => decodeNpy(good.subarray(0, good.length - 8), name))).toMatch(/needs 24 bytes of data, the file has 16/);
    expect(errorOf(() => decodeNpy(Buffer.concat([good, new Uint8Array(4)]), name))).toMatch(/^X\.npy: malformed \.npy file: .* the file has 28/);
    const wrongVersion = new Uint8Array(good);
    wrongVersion[6] = 9;
    expect(errorOf(() => decodeNpy(wrongVersion, name))).toMatch(/^X\.npy: unsupported \.npy format version 9\.0/);
    const data = new Uint8Array(24);
    expect(errorOf(() => decodeNpy(rawNpy(`{'descr': '<f4', 'shape': (2, 3), }`, data), name))).toMatch(
      /^X\.npy: malformed \.npy header .*needs 'descr', 'fortran_order' and 'shape'/,
    );
    expect(errorOf(() => decodeNpy(rawNpy(`garbage`, data), name))).toMatch(/^X\.npy: malformed \.npy header "garbage"/);
    expect(errorOf(() => decodeNpy(rawNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }`, data), name))).toMatch(
      /malformed \.npy shape \(2, x\)/,
    );
    expect(errorOf(() => decodeNpy(rawNpy(`{'descr': '<f2', 'fortran_order': False, 'shape': (2, 6), }`, data), name))).toMatch(
      /^X\.npy: unsupported dtype '<f2'/,
    );
  });

  it('names a missing file', () => {
    const file = path.join(temp, 'missing.npy');
    expect(errorOf(() => readNpy(file))).toBe(`${file} does not exist.`);
    const bytes = encodeNpy(new Float64Array(4), [4]);
    writeFileSync(path.join(temp, 'short.npy'), bytes.subarray(0, bytes.length - 26));
    expect(errorOf(() => readNpy(path.join(temp, 'short.npy')))).toMatch(
      /short\.npy: truncated .npy file: shape \[4\] float64 needs 32 bytes of data, the file has 6/,
    );
  });

  it('reads big-endian, Fortran-order and version 2 files', () => {
    const values = [1.5, -2, 3.25, 0, 1e-30, 7]; // C order, shape [2, 3]
    const be = new Uint8Array(48);
    values.forEach((v, i) => new DataView(be.buffer).setFloat64(i * 8, v, false));
    const big = decodeNpy(rawNpy(`{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }`, be));
    expect(big.data).toBeInstanceOf(Float64Array);
    expect(Array.from(big.data)).toEqual(values);
    // Fortran order: columns first.
    const fortran = Float32Array.from([values[0]!, values[3]!, values[1]!, values[4]!, values[2]!, values[5]!]);
    const f = decodeNpy(rawNpy(`{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }`, new Uint8Array(fortran.buffer)));
    expect(f.shape).toEqual([2, 3]);
    expect(Array.from(f.data)).toEqual(Array.from(Float32Array.from(values)));
    const v2 = decodeNpy(rawNpy(`{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }`, new Uint8Array(Float32Array.from(values).buffer), 2));
    expect(v2.shape).toEqual([6]);
    expect(Array.from(v2.data)).toEqual(Array.from(Float32Array.from(values)));
  });
});
