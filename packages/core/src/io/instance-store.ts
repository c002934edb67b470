import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { L2oError } from '../errors.js';
import type { InstanceSet } from '../contracts/instances.js';
import { encodeNpy, readNpy } from './npy.js';
import { writeDirAtomic } from './atomic.js';

/**
 * The exchange format for instances and results: a folder with `instances.json` (problem, sizes,
 * λ, provenance, which arrays exist) and one NumPy .npy file per array:
 *   A.npy        float32 [count, m, n], or [m, n] when shared by every instance
 *   b.npy        float32 [count, m]
 *   x_true.npy   float32 [count, n]   (the generating signal, synthetic data only)
 *   f_star.npy   float64 [count]      (optimal objective)
 *   x_star.npy   float32 [count, n]   (a solution, when exported with one)
 * Written as NumPy format 1.0, little-endian, C order. Read back (loadInstances), each array may
 * be float32 or float64, either byte order, C or Fortran order, but must have exactly the shape
 * above for the count, m, n and sharedA in instances.json.
 */
export const INSTANCES_FILE = 'instances.json';

/** The set's own fields are InstanceSet's, so the two cannot drift apart. */
interface InstancesJson extends Pick<InstanceSet, 'problem' | 'count' | 'm' | 'n' | 'lambda' | 'sharedA' | 'meta'> {
  format: 'l2o-instances/1';
  arrays: string[];
}

/** Writes a folder in the exchange format atomically; `extra` files (e.g. result.json) go in with it. */
export async function saveInstances(dir: string, set: InstanceSet, solution?: Float32Array, extra: Record<string, string> = {}): Promise<void> {
  await writeDirAtomic(dir, (tmp) => {
    const arrays: string[] = [];
    const put = (name: string, data: Float32Array | Float64Array, shape: number[]) => {
      writeFileSync(path.join(tmp, `${name}.npy`), encodeNpy(data, shape));
      arrays.push(name);
    };
    put('A', set.A, set.sharedA ? [set.m, set.n] : [set.count, set.m, set.n]);
    put('b', set.b, [set.count, set.m]);
    if (set.xTrue) put('x_true', set.xTrue, [set.count, set.n]);
    if (set.fStar) put('f_star', set.fStar, [set.count]);
    if (solution) put('x_star', solution, [set.count, set.n]);
    const json: InstancesJson = {
      format: 'l2o-instances/1',
      problem: set.problem,
      count: set.count,
      m: set.m,
      n: set.n,
      lambda: set.lambda,
      sharedA: set.sharedA,
      arrays,
      meta: set.meta,
    };
    writeFileSync(path.join(tmp, INSTANCES_FILE), `${JSON.stringify(json, null, 2)}\n`);
    for (const [name, content] of Object.entries(extra)) writeFileSync(path.join(tmp, name), content);
  });
}

/** The arrays a folder may hold (format l2o-instances/1). */
const ARRAY_NAMES = ['A', 'b', 'x_true', 'f_star', 'x_star'] as const;
type ArrayName = (typeof ARRAY_NAMES)[number];

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Reads and checks instances.json: one L2oError naming the file and the field on any problem. */
function readInstancesJson(dir: string): InstancesJson {
  const file = path.join(dir, INSTANCES_FILE);
  if (!existsSync(file)) throw new L2oError(`${dir} holds no ${INSTANCES_FILE}.`, 'Give a folder written by `l2o export`.');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new L2oError(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new L2oError(`${file} is not valid JSON: ${(e as Error).message.replace(/\s+/g, ' ')}.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new L2oError(`${file} must hold a JSON object.`);
  const j = json as Record<string, unknown>;
  const field = (name: string, want: string, got: unknown) =>
    new L2oError(`${file}: "${name}" must be ${want}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}.`);
  if (j.format !== 'l2o-instances/1') throw new L2oError(`${file} has format ${JSON.stringify(j.format)}, expected 'l2o-instances/1'.`);
  if (typeof j.problem !== 'string' || j.problem === '') throw field('problem', 'a problem id (a string)', j.problem);
  for (const name of ['count', 'm', 'n']) if (!isPositiveInt(j[name])) throw field(name, 'a positive integer', j[name]);
  if (typeof j.lambda !== 'number' || !Number.isFinite(j.lambda) || j.lambda < 0) throw field('lambda', 'a finite number ≥ 0', j.lambda);
  if (typeof j.sharedA !== 'boolean') throw field('sharedA', 'true or false', j.sharedA);
  if (!Array.isArray(j.arrays) || j.arrays.some((a) => typeof a !== 'string')) throw field('arrays', 'a list of array names', j.arrays);
  const unknown = (j.arrays as string[]).filter((a) => !(ARRAY_NAMES as readonly string[]).includes(a));
  if (unknown.length) throw new L2oError(`${file}: "arrays" lists unknown array '${unknown[0]}'.`, `Known: ${ARRAY_NAMES.join(', ')}.`);
  for (const required of ['A', 'b']) if (!j.arrays.includes(required)) throw new L2oError(`${file}: "arrays" must list '${required}'.`);
  if (j.meta !== undefined && (typeof j.meta !== 'object' || j.meta === null || Array.isArray(j.meta))) throw field('meta', 'an object', j.meta);
  return { ...(j as unknown as InstancesJson), meta: (j.meta as Record<string, unknown> | undefined) ?? {} };
}

/**
 * Reads a folder in the exchange format. Every listed array must exist, hold float32 or float64
 * values (converted to the type the set uses: float64 for f_star, float32 otherwise) and have
 * exactly the shape instances.json implies; f_star must be finite. Any problem is one L2oError
 * naming the file. Value checks that depend on the problem (A and b finite, F* ≥ 0 where F ≥ 0)
 * are the problem's `validate`.
 */
export function loadInstances(dir: string): InstanceSet & { solution?: Float32Array } {
  const json = readInstancesJson(dir);
  const { count, m, n } = json;
  const shapes: Record<ArrayName, number[]> = {
    A: json.sharedA ? [m, n] : [count, m, n],
    b: [count, m],
    x_true: [count, n],
    f_star: [count],
    x_star: [count, n],
  };
  const dims: Record<ArrayName, string> = {
    A: json.sharedA ? 'm, n' : 'count, m, n',
    b: 'count, m',
    x_true: 'count, n',
    f_star: 'count',
    x_star: 'count, n',
  };
  const get = (name: ArrayName): Float32Array | Float64Array | undefined => {
    if (!json.arrays.includes(name)) return undefined;
    const file = path.join(dir, `${name}.npy`);
    if (!existsSync(file)) throw new L2oError(`${file} is missing, but ${INSTANCES_FILE} lists '${name}' in "arrays".`);
    const { shape, data } = readNpy(file);
    const expected = shapes[name];
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
      throw new L2oError(
        `${file} has shape [${shape.join(', ')}], expected [${expected.join(', ')}] (${dims[name]} from ${INSTANCES_FILE}).`,
        shape.length === expected.length && [...shape].sort().join() === [...expected].sort().join() ? 'Is it transposed?' : undefined,
      );
    }
    return data;
  };
  const f32 = (a: Float32Array | Float64Array | undefined) => (a && !(a instanceof Float32Array) ? Float32Array.from(a) : a);
  const f64 = (a: Float32Array | Float64Array | undefined) => (a && !(a instanceof Float64Array) ? Float64Array.from(a) : a);
  const fStar = f64(get('f_star'));
  if (fStar) {
    const bad = fStar.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new L2oError(`${path.join(dir, 'f_star.npy')} holds a non-finite value (${fStar[bad]}) at index ${bad}.`, 'F* must be finite for every instance.');
    }
  }
  return {
    problem: json.problem,
    count,
    m,
    n,
    lambda: json.lambda,
    sharedA: json.sharedA,
    A: f32(get('A'))!,
    b: f32(get('b'))!,
    xTrue: f32(get('x_true')),
    fStar,
    solution: f32(get('x_star')),
    meta: json.meta,
  };
}
