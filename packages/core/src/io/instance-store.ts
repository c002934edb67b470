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
 */
export const INSTANCES_FILE = 'instances.json';

interface InstancesJson {
  format: 'l2o-instances/1';
  problem: string;
  count: number;
  m: number;
  n: number;
  lambda: number;
  sharedA: boolean;
  arrays: string[];
  meta: Record<string, unknown>;
}

export async function saveInstances(dir: string, set: InstanceSet, solution?: Float32Array): Promise<void> {
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
  });
}

export function loadInstances(dir: string): InstanceSet & { solution?: Float32Array } {
  const file = path.join(dir, INSTANCES_FILE);
  if (!existsSync(file)) throw new L2oError(`${dir} holds no ${INSTANCES_FILE}.`, 'Give a folder written by `l2o export`.');
  const json = JSON.parse(readFileSync(file, 'utf8')) as InstancesJson;
  if (json.format !== 'l2o-instances/1') throw new L2oError(`${file} has format '${json.format}', expected 'l2o-instances/1'.`);
  const get = (name: string) => (json.arrays.includes(name) ? readNpy(path.join(dir, `${name}.npy`)).data : undefined);
  const f32 = (a: Float32Array | Float64Array | undefined) => (a && !(a instanceof Float32Array) ? Float32Array.from(a) : a);
  const f64 = (a: Float32Array | Float64Array | undefined) => (a && !(a instanceof Float64Array) ? Float64Array.from(a) : a);
  return {
    problem: json.problem,
    count: json.count,
    m: json.m,
    n: json.n,
    lambda: json.lambda,
    sharedA: json.sharedA,
    A: f32(get('A'))!,
    b: f32(get('b'))!,
    xTrue: f32(get('x_true')) as Float32Array | undefined,
    fStar: f64(get('f_star')) as Float64Array | undefined,
    solution: f32(get('x_star')) as Float32Array | undefined,
    meta: json.meta,
  };
}
