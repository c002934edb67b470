import { readFileSync } from 'node:fs';
import { L2oError } from '../errors.js';

/**
 * NumPy .npy (format 1.0), little-endian float32 / float64, C order: the simplest format that
 * numpy.load, Julia and MATLAB readers open directly, for exported instances and results.
 */
export type NpyArray = { shape: number[]; data: Float32Array | Float64Array };

export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape [${shape}] holds ${count} values, data has ${data.length}`);
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

export function decodeNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new L2oError(`${name} is not a .npy file.`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(start, start + headerLength)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined || fortran !== 'False' || !['<f4', '<f8'].includes(descr)) {
    throw new L2oError(`${name}: unsupported .npy header ${header.trim()}.`, 'Save float32 or float64 arrays in C order.');
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLength;
  const raw = new Uint8Array(bytes.subarray(offset)); // a copy: a Buffer shares a pooled ArrayBuffer at an offset
  const data = descr === '<f8' ? new Float64Array(raw.buffer, 0, raw.byteLength / 8) : new Float32Array(raw.buffer, 0, raw.byteLength / 4);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new L2oError(`${name}: .npy shape [${shape}] needs ${count} values, file has ${data.length}.`);
  return { shape, data };
}

export function readNpy(file: string): NpyArray {
  return decodeNpy(readFileSync(file), file);
}
