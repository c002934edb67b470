// Evaluation and reference solves on worker threads (Node only: evaluator.ts and reference.ts
// run in browsers too). Contiguous blocks of whole batches go to the workers, each batch computed
// as one thread computes it, so the numbers are the same for any worker count.
import { throwIfInterrupted } from '../../errors.js';
import type { Optimizer } from '../../contracts/optimizer.js';
import type { Problem } from '../../contracts/problem.js';
import { isLearnedOptimizer } from '../../contracts/learned-optimizer.js';
import { sliceInstances, type InstanceSet } from '../../contracts/instances.js';
import { checkWorkersOnEngine } from '../../train/training-options.js';
import { fallbackWorkerPlatform, ownSet, startThreadWorkers, type ThreadWorker, type WorkerPlatform } from '../../train/parallel/worker-pool.js';
import { evaluateOptimizer, evaluatesInFloat64, evaluationCurve, type EvaluateOptions, type EvaluationCurve } from '../evaluator.js';
import { solveReference, type ReferenceOptions, type ReferenceSolution } from '../reference.js';
import type { BlockRecipe, FromEvaluationWorker, OptimizerRecipe, ToEvaluationWorker } from './protocol.js';

export interface WorkerOptions {
  /** Worker threads (one core each); 1 (the default) runs on this thread. */
  workers?: number;
  /** The engine and plugin discovery the workers boot with (see workerPlatformOf); default: this thread's engine and the default discovery. */
  workerPlatform?: WorkerPlatform;
}

/** The worker entry: the sibling .js in dist; under vitest (src/) the built copy. */
function workerEntry(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('../../../dist/evaluate/parallel/evaluate-worker.js', import.meta.url);
  return new URL('./evaluate-worker.js', import.meta.url);
}

function recipeOf(optimizer: Optimizer): OptimizerRecipe {
  if (isLearnedOptimizer(optimizer)) {
    // Its config, with the options beside it that are not model config (core's safeguard settings).
    const config = structuredClone({ ...optimizer.config });
    return {
      kind: 'model',
      id: optimizer.modelId,
      config,
      options: { ...structuredClone({ ...optimizer.options }), ...config },
      weights: optimizer.getWeights(),
    };
  }
  return { kind: 'optimizer', id: optimizer.id, options: structuredClone({ ...optimizer.options }) };
}

/** The instance ranges [from, to) of `workers` contiguous blocks of whole batches (fewer when there are fewer batches). */
export function batchBlocks(count: number, batchSize: number, workers: number): [number, number][] {
  const batches = Math.ceil(count / batchSize);
  const n = Math.max(1, Math.min(workers, batches));
  return Array.from({ length: n }, (_, i) => {
    const [b0, b1] = [Math.floor((i * batches) / n), Math.floor(((i + 1) * batches) / n)];
    return [b0 * batchSize, Math.min(count, b1 * batchSize)];
  });
}

/**
 * Runs one request per block on its own worker and returns the answers in block order. Progress
 * is the instances done over all blocks; an abort ends the workers and throws InterruptedError.
 */
async function onBlocks<R extends FromEvaluationWorker>(
  blocks: [number, number][],
  set: InstanceSet,
  options: WorkerOptions & { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  request: (block: InstanceSet) => ToEvaluationWorker,
): Promise<R[]> {
  const platform = options.workerPlatform ?? fallbackWorkerPlatform();
  throwIfInterrupted(options.signal);
  const workers = await startThreadWorkers<ToEvaluationWorker, FromEvaluationWorker>(workerEntry(), blocks.length, 'Evaluation worker', platform, {
    type: 'init',
    platform,
  });
  const stop = () => void Promise.all(workers.map((w) => w.terminate()));
  options.signal?.addEventListener('abort', stop, { once: true });
  const done = blocks.map(() => 0);
  try {
    throwIfInterrupted(options.signal); // an abort while they started
    return await Promise.all(
      workers.map((w: ThreadWorker<ToEvaluationWorker, FromEvaluationWorker>, i) => {
        const [from, to] = blocks[i]!;
        const own = ownSet(sliceInstances(set, from, to - from));
        return w.request(request(own.set), own.buffers, (d) => {
          done[i] = d;
          options.onProgress?.(
            done.reduce((a, b) => a + b, 0),
            set.count,
          );
        }) as Promise<R>;
      }),
    );
  } catch (e) {
    throwIfInterrupted(options.signal);
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const problemRecipe = (problem: Problem) => ({ id: problem.id, options: structuredClone({ ...problem.options }) });

/**
 * evaluateOptimizer with its batches split over `workers` threads (each a contiguous block of
 * whole batches): the same curve, bit for bit, as one thread gives. Each worker rebuilds the problem
 * and optimizer from the registry (a learned one with this one's weights).
 */
export async function evaluateOnWorkers(
  problem: Problem,
  optimizer: Optimizer,
  set: InstanceSet,
  options: EvaluateOptions & WorkerOptions,
): Promise<EvaluationCurve> {
  const blocks = batchBlocks(set.count, options.batchSize, options.workers ?? 1);
  if (blocks.length <= 1) return evaluateOptimizer(problem, optimizer, set, options);
  checkWorkersOnEngine(options.workerPlatform?.engine ?? '', blocks.length);
  const K = options.iterations;
  const float64 = evaluatesInFloat64(problem, set);
  const started = performance.now();
  const recipe: Omit<BlockRecipe, 'set'> = { problem: problemRecipe(problem), optimizer: recipeOf(optimizer), batchSize: options.batchSize };
  const replies = await onBlocks<FromEvaluationWorker & { type: 'evaluated' }>(blocks, set, options, (block) => ({
    type: 'evaluate',
    ...recipe,
    set: block,
    iterations: K,
    float64,
  }));
  const F = new Float64Array(set.count * (K + 1));
  let accepted: Float64Array | null = null;
  replies.forEach((r, i) => {
    F.set(r.F, blocks[i]![0] * (K + 1));
    // Counts of kept steps (0/1 per instance): their sum is exact in any order.
    if (r.accepted) {
      accepted ??= new Float64Array(K);
      for (let k = 0; k < K; k++) accepted[k]! += r.accepted[k]!;
    }
  });
  return evaluationCurve(optimizer.id, set, K, { F, accepted, secondsBefore: 0 }, float64, (performance.now() - started) / 1000);
}

/** solveReference with its batches (and their float64 refinement) split over `workers` threads: the same solution as one thread. */
export async function solveReferenceOnWorkers(
  problem: Problem,
  solver: Optimizer,
  set: InstanceSet,
  options: ReferenceOptions & WorkerOptions,
): Promise<ReferenceSolution> {
  const blocks = batchBlocks(set.count, options.batchSize, options.workers ?? 1);
  if (blocks.length <= 1) return solveReference(problem, solver, set, options);
  checkWorkersOnEngine(options.workerPlatform?.engine ?? '', blocks.length);
  const { maxIterations, tolerance, checkEvery, batchSize } = options;
  const replies = await onBlocks<FromEvaluationWorker & { type: 'solved' }>(blocks, set, options, (block) => ({
    type: 'reference',
    problem: problemRecipe(problem),
    optimizer: recipeOf(solver),
    set: block,
    batchSize,
    maxIterations,
    tolerance,
    checkEvery,
  }));
  const fStar = new Float64Array(set.count);
  const x = new Float32Array(set.count * set.n);
  const kkt = new Float64Array(set.count);
  replies.forEach(({ solution }, i) => {
    const from = blocks[i]![0];
    fStar.set(solution.fStar, from);
    x.set(solution.x, from * set.n);
    kkt.set(solution.kkt, from);
  });
  const iterations = replies.flatMap((r) => r.solution.iterations);
  const refined = replies.map((r) => r.solution.float64).filter((f) => f !== undefined);
  // Maxima over instances: the same over blocks in any order.
  const float64 =
    refined.length > 0 ? { maxKkt: Math.max(...refined.map((f) => f.maxKkt)), resolution: Math.max(...refined.map((f) => f.resolution)) } : undefined;
  return { fStar, x, kkt, iterations, ...(float64 ? { float64 } : {}) };
}
