/**
 * A set of problem instances held on the host, in float32, so that it can be cached, exported
 * and turned into tensors on any engine with bit-identical values.
 *
 * All instances of a set share m and n. `A` holds either one matrix per instance
 * (count·m·n values, row-major [count, m, n]) or one matrix shared by all (`sharedA`, m·n).
 */
export interface InstanceSet {
  /** Problem id these instances are for (e.g. `lasso`). */
  problem: string;
  count: number;
  m: number;
  n: number;
  lambda: number;
  sharedA: boolean;
  A: Float32Array;
  /** [count, m] row-major. */
  b: Float32Array;
  /** Known generating signal, [count, n] (synthetic data only). */
  xTrue?: Float32Array;
  /** Optimal objective per instance, filled in by the evaluation protocol. */
  fStar?: Float64Array;
  /** Where the set came from: dataset id, options, seed. */
  meta: Record<string, unknown>;
}

/** The instances [start, start+size) of a set, as a new set (A copied unless shared). */
export function sliceInstances(set: InstanceSet, start: number, size: number): InstanceSet {
  const end = Math.min(set.count, start + size);
  const count = end - start;
  const mn = set.m * set.n;
  return {
    ...set,
    count,
    A: set.sharedA ? set.A : set.A.subarray(start * mn, end * mn),
    b: set.b.subarray(start * set.m, end * set.m),
    xTrue: set.xTrue?.subarray(start * set.n, end * set.n),
    fStar: set.fStar?.subarray(start, end),
  };
}
