import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from './npy.js';

describe('npy', () => {
  it('round-trips float32 and float64 with the header numpy expects', () => {
    const f32 = new Float32Array([1.5, -2, 3.25, 0, 1e-30, 7]);
    const bytes = encodeNpy(f32, [2, 3]);
    expect(Buffer.from(bytes.subarray(0, 8)).toString('latin1')).toBe('\x93NUMPY\x01\x00');
    const headerLength = bytes[8]! + 256 * bytes[9]!;
    expect((10 + headerLength) % 64).toBe(0);
    expect(Buffer.from(bytes.subarray(10, 10 + headerLength)).toString()).toMatch(
      /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/,
    );
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
});
