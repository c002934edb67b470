import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isL2oError, L2oError } from '../errors.js';
import type { Problem } from '../contracts/problem.js';
import type { Optimizer } from '../contracts/optimizer.js';
import { checkServes, type Dataset, type DatasetContext, type Split } from '../contracts/dataset.js';
import type { InstanceSet } from '../contracts/instances.js';
import { Rng } from '../random/rng.js';
import { loadInstances, saveInstances } from '../io/instance-store.js';
import type { ReferenceOptions } from '../evaluate/reference.js';
import { solveReferenceOnWorkers, type WorkerOptions } from '../evaluate/parallel/workers.js';
import { configHash } from '../util/stable-json.js';

export interface TestSetRequest {
  dataset: { id: string; options: Record<string, unknown> };
  problem: { id: string; options: Record<string, unknown> };
  split: Split;
  count: number;
  seed: number;
  reference: { id: string; options: Record<string, unknown> } & Omit<ReferenceOptions, 'batchSize' | 'onProgress'>;
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

/** 2: F* in float64 where the problem has a float64 solve (format 1 sets had float32 F*). */
const TEST_SET_FORMAT = 2;

/** Where a test set is cached: one folder per request (dataset, problem, count, seed, reference). */
export function testSetDir(request: TestSetRequest, ctx: DatasetContext): string {
  return path.join(ctx.cacheDir, 'testsets', `${request.dataset.id}-${request.problem.id}-${configHash({ format: TEST_SET_FORMAT, ...request })}`);
}

/**
 * Reads a cached test set, or null when its folder cannot be used: a file missing, truncated or
 * malformed, bad JSON, shapes that do not match the count, F* missing or not finite, instances
 * the problem rejects. Such a folder is reported through `log` (a "warning: " line naming it)
 * and deleted, so the caller builds it again: a corrupt cache entry is a cache miss.
 */
export function loadCachedTestSet(
  dir: string,
  problem: Problem,
  request: Pick<TestSetRequest, 'count'>,
  warn: (line: string) => void,
): (InstanceSet & { solution?: Float32Array }) | null {
  let reason: string;
  try {
    const set = loadInstances(dir);
    if (set.problem !== problem.id) throw new L2oError(`it holds '${set.problem}' instances, not '${problem.id}'`);
    if (set.count > request.count) throw new L2oError(`it holds ${set.count} instances, more than the ${request.count} asked for`);
    if (!set.fStar) throw new L2oError('it has no f_star.npy');
    problem.validate(set);
    return set;
  } catch (e) {
    // Bugs are not cache misses; file errors (EISDIR, EIO, ...) and every check above are.
    if (!isL2oError(e) && !(e as NodeJS.ErrnoException).code) throw e;
    // The warning names the folder; its files are named relative to it.
    reason = (e as Error).message.replace(/\s+/g, ' ').replace(/\.$/, '').split(`${dir}${path.sep}`).join('');
  }
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    throw new L2oError(
      `The cached test set ${dir} is unreadable (${reason}) and cannot be removed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      'Delete it, or use another --cache-dir.',
    );
  }
  warn(`cached test set ${dir} is unreadable (${reason}); building it again`);
  return null;
}

/**
 * A fixed test set: fixed by its seed, cached on disk with F* per instance (a reference solver
 * run to its KKT tolerance), so later runs reuse both. A cached set that cannot be used is
 * rebuilt with a warning (see `loadCachedTestSet`).
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
  /** Worker threads of the reference solve (not part of the request: the F* are the same for any count). */
  parallel: WorkerOptions = {},
): Promise<{ set: InstanceSet & { solution?: Float32Array }; cached: boolean; dir: string }> {
  const dir = testSetDir(request, ctx);
  if (existsSync(dir)) {
    const cached = loadCachedTestSet(dir, problem, request, ctx.warn ?? ((line) => ctx.log(`warning: ${line}`)));
    if (cached) return { set: cached, cached: true, dir };
  }
  const set = await drawInstances(dataset, problem, request, ctx);
  const solution = await solveReferenceOnWorkers(problem, referenceSolver, set, { ...request.reference, batchSize, onProgress, signal, ...parallel });
  set.fStar = solution.fStar;
  set.meta = {
    ...set.meta,
    reference: {
      ...request.reference,
      iterations: solution.iterations,
      maxKkt: Math.max(...solution.kkt),
      ...(solution.float64 ? { float64: solution.float64 } : {}),
    },
  };
  await saveInstances(dir, set, solution.x).catch((e: NodeJS.ErrnoException) => {
    // Another run wrote the same set meanwhile: theirs is identical.
    if (!existsSync(dir)) throw e;
  });
  return { set: loadInstances(dir), cached: false, dir };
}
