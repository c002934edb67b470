/**
 * The newest run of each seed, in seed order (on equal creation times the first one given): a seed
 * run again replaces its older run when runs are put together over seeds (`l2o runs aggregate`,
 * `l2o results` over the store and the kept figure data, the dashboard's figures).
 */
export function newestPerSeed<T extends { seed: number; createdAt: string }>(runs: readonly T[]): T[] {
  const newest = new Map<number, T>();
  for (const r of runs) {
    const had = newest.get(r.seed);
    if (!had || had.createdAt < r.createdAt) newest.set(r.seed, r);
  }
  return [...newest.values()].sort((a, b) => a.seed - b.seed);
}
