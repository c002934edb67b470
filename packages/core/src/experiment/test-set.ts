import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Problem } from '../contracts/problem.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Dataset, DatasetContext, Split } from '../contracts/dataset.js';
import type { InstanceSet } from '../contracts/instances.js';
import { Rng } from '../random/rng.js';
import { loadInstances, saveInstances } from '../io/instance-store.js';
import { solveReference, type ReferenceOptions } from '../evaluate/reference.js';
import { configHash } from '../util/stable-json.js';

export interface TestSetRequest {
  dataset: { id: string; options: Record<string, unknown> };
  problem: { id: string; options: Record<string, unknown> };
  split: Split;
  count: number;
  seed: number;
  reference: { id: string; options: Record<string, unknown> } & Omit<ReferenceOptions, 'batchSize' | 'onProgress'>;
}

/** Fails unless the dataset can produce instances of the problem. */
export function checkServes(dataset: Dataset, problemId: string): void {
  if (!dataset.serves.includes(problemId)) {
    throw new UsageError(
      `Dataset '${dataset.id}' does not serve problem '${problemId}'.`,
      `It serves: ${dataset.serves.join(', ')}.`,
    );
  }
}

/** Draws instances of a split from their own seeded stream. */
export async function drawInstances(
  dataset: Dataset,
  problem: Problem,
  request: Pick<TestSetRequest, 'dataset' | 'split' | 'count' | 'seed'>,
  ctx: DatasetContext,
): Promise<InstanceSet> {
  checkServes(dataset, problem.id);
  const set = await dataset.instances(
    { problem: problem.id, split: request.split, count: request.count, rng: Rng.stream(request.seed, request.split), options: request.dataset.options },
    ctx,
  );
  problem.validate(set);
  return set;
}

/**
 * A fixed test set: fixed by its seed, cached on disk with F* per instance (a reference solver
 * run to its KKT tolerance), so later runs reuse both.
 */
export async function loadOrBuildTestSet(
  dataset: Dataset,
  problem: Problem,
  referenceSolver: Optimizer,
  request: TestSetRequest,
  ctx: DatasetContext,
  batchSize: number,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ set: InstanceSet & { solution?: Float32Array }; cached: boolean; dir: string }> {
  const key = configHash({ format: 1, ...request });
  const dir = path.join(ctx.cacheDir, 'testsets', `${request.dataset.id}-${request.problem.id}-${key}`);
  if (existsSync(dir)) return { set: loadInstances(dir), cached: true, dir };
  const set = await drawInstances(dataset, problem, request, ctx);
  const solution = await solveReference(problem, referenceSolver, set, { ...request.reference, batchSize, onProgress, signal });
  set.fStar = solution.fStar;
  set.meta = { ...set.meta, reference: { ...request.reference, iterations: solution.iterations, maxKkt: Math.max(...solution.kkt) } };
  await saveInstances(dir, set, solution.x).catch((e: NodeJS.ErrnoException) => {
    // Another run wrote the same set meanwhile: theirs is identical.
    if (!existsSync(dir)) throw e;
  });
  return { set: loadInstances(dir), cached: false, dir };
}
