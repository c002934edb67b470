import { readFileSync } from 'node:fs';
import { L2oError } from '../errors.js';

/**
 * NumPy .npy (format 1.0), little-endian float32 / float64, C order: the simplest format that
 * numpy.load, Julia and MATLAB readers open directly, for exported instances and results.
 */
export type NpyArray = { shape: number[]; data: Float32Array | Float64Array };

export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape [${shape.join(',')}] holds ${count} values, data has ${data.length}`);
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Header length so that the data starts on a 64-byte boundary, ending in a newline.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

const DTYPES: Record<string, { bytes: 4 | 8; little: boolean; name: 'float32' | 'float64' }> = {
  '<f4': { bytes: 4, little: true, name: 'float32' },
  '<f8': { bytes: 8, little: true, name: 'float64' },
  '>f4': { bytes: 4, little: false, name: 'float32' },
  '>f8': { bytes: 8, little: false, name: 'float64' },
};

/**
 * Decodes a .npy file (format 1.x, 2.x or 3.x) holding float32 or float64 values, either byte
 * order, C or Fortran order; the result is always native float32/float64 in C (row-major) order.
 * Anything else (another dtype, a truncated or malformed file) is one L2oError naming `name`.
 */
export function decodeNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  const bad = (what: string, hint?: string) => new L2oError(`${name}: ${what}`, hint);
  if (bytes.length < 8 || Buffer.from(bytes.subarray(0, 6)).toString('latin1') !== '\x93NUMPY') {
    throw new L2oError(`${name} is not a .npy file (no \\x93NUMPY magic at its start).`, 'Save it with numpy.save.');
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(`unsupported .npy format version ${major}.${bytes[7]}.`, 'Save it with numpy.save (format 1.0).');
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw bad(`truncated .npy file (${bytes.length} bytes, the header length alone needs ${start}).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLength > bytes.length) {
    throw bad(`truncated .npy file: the header needs ${start + headerLength} bytes, the file has ${bytes.length}.`);
  }
  const header = Buffer.from(bytes.subarray(start, start + headerLength)).toString(major === 3 ? 'utf8' : 'latin1');
  const oneLine = header.trim().replace(/\s+/g, ' ');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!/^\s*\{[\s\S]*\}\s*$/.test(header) || descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`malformed .npy header ${JSON.stringify(oneLine)}; it needs 'descr', 'fortran_order' and 'shape'.`);
  }
  const dtype = DTYPES[descr];
  if (!dtype) throw bad(`unsupported dtype '${descr}'.`, 'Save float32 or float64 arrays (e.g. a.astype(numpy.float32)).');
  const dims = shapeText.split(',').map((s) => s.trim());
  if (dims.at(-1) === '') dims.pop(); // "(3,)"
  if (dims.some((d) => !/^\d+$/.test(d))) throw bad(`malformed .npy shape (${shapeText}).`);
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  const needed = count * dtype.bytes;
  const have = bytes.length - offset;
  if (have !== needed) {
    throw bad(
      `${have < needed ? 'truncated' : 'malformed'} .npy file: shape [${shape.join(', ')}] ${dtype.name} needs ${needed} bytes of data, the file has ${have}.`,
    );
  }
  // A copy into a fresh buffer: a Buffer shares a pooled ArrayBuffer at an unaligned offset.
  const raw = new Uint8Array(bytes.subarray(offset));
  if (!dtype.little) {
    for (let i = 0; i < raw.length; i += dtype.bytes) raw.subarray(i, i + dtype.bytes).reverse();
  }
  let data: Float32Array | Float64Array = dtype.bytes === 8 ? new Float64Array(raw.buffer, 0, count) : new Float32Array(raw.buffer, 0, count);
  if (fortran === 'True' && shape.length > 1) data = fortranToC(data, shape);
  return { shape, data };
}

/** Reorders column-major (Fortran) values of the given shape into row-major (C) order. */
function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: readonly number[]): T {
  const dst = new (src.constructor as new (n: number) => T)(src.length);
  const rank = shape.length;
  // Fortran strides: index = i0 + d0·(i1 + d1·(i2 + …)).
  const fStride = new Array<number>(rank);
  for (let k = 0, s = 1; k < rank; k++) {
    fStride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < dst.length; c++) {
    let f = 0;
    for (let k = 0; k < rank; k++) f += idx[k]! * fStride[k]!;
    dst[c] = src[f]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return dst;
}

/** Reads a .npy file; a missing or unreadable file is one L2oError naming it. */
export function readNpy(file: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new L2oError(`${file} does not exist.`);
    throw new L2oError(`Cannot read ${file}: ${err.code ?? err.message}.`);
  }
  return decodeNpy(bytes, file);
}
