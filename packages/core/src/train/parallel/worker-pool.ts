// Data-parallel meta-training: worker threads that each own a fixed shard of a global step's
// micro-batches. WASM tfjs is single-threaded in Node, so this is how training uses more cores.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { tf } from '../../tf.js';
import { L2oError } from '../../errors.js';
import { defaultSettings, type Platform } from '../../container.js';
import type { EngineRequest } from '../../engine/engine.js';
import type { InstanceSet } from '../../contracts/instances.js';
import type { LearnedOptimizer } from '../../contracts/learned-optimizer.js';
import type { Problem } from '../../contracts/problem.js';
import type { Rng } from '../../random/rng.js';
import { checkWorkersOnEngine } from '../training-options.js';
import type { FromWorker, ToWorker, WorkerPlatform, WorkerRecipe } from './protocol.js';
import { firstLine, type WorkerNotice } from '../../util/worker-messages.js';

export type { WorkerPlatform, WorkerRecipe } from './protocol.js';

/**
 * The worker's entry. From dist it is the sibling .js file; under vitest this module runs from
 * src/ and Node cannot start a .ts worker, so the built copy is used (tests build it first).
 */
function workerEntry(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('../../../dist/train/parallel/segment-worker.js', import.meta.url);
  return new URL('./segment-worker.js', import.meta.url);
}

/** The engine and plugin discovery inputs a platform was booted with, for workers to boot the same. */
export function workerPlatformOf(platform: Platform): WorkerPlatform {
  return {
    engine: platform.engine.chosen,
    searchFrom: platform.settings.searchFrom.map((d) => path.resolve(d)),
    pluginPaths: platform.settings.pluginPaths.map((p) => path.resolve(p)),
  };
}

/**
 * Without a given platform (direct callers of trainLearnedOptimizer): the default discovery inputs plus the folder of the main script
 * (where a global CLI install keeps its plugins), and the engine now active in this thread.
 */
export function fallbackWorkerPlatform(): WorkerPlatform {
  const settings = defaultSettings();
  const backend = tf.getBackend();
  const engine: EngineRequest = backend === 'wasm' || backend === 'cpu' ? backend : 'auto';
  const script = process.argv[1] ? [path.dirname(path.resolve(process.argv[1]))] : [];
  return { engine, searchFrom: [...settings.searchFrom, ...script].map((d) => path.resolve(d)), pluginPaths: settings.pluginPaths };
}

let live = 0;
/** Worker threads started and not yet exited, training's and evaluation's (tests check that none outlive their work). */
export function liveSegmentWorkers(): number {
  return live;
}

/**
 * One worker thread with at most one request in flight; its failures become L2oErrors naming it
 * by `role` (e.g. 'Training worker 2 of 4'). Training's and evaluation's workers are these.
 */
export class ThreadWorker<To = ToWorker, From extends { type: string } = FromWorker> {
  private pending: { resolve: (m: From) => void; reject: (e: Error) => void; onProgress?: (done: number) => void } | null = null;
  private failure: L2oError | null = null;
  private stopping = false;
  private readonly exited: Promise<void>;

  /** Until its model is built, failures read 'could not start' and carry a hint on plugin discovery. */
  started = false;

  constructor(
    readonly index: number,
    readonly count: number,
    private readonly worker: Worker,
    private readonly startHint: string,
    private readonly role = 'Training worker',
  ) {
    live++;
    // The worker's stdout goes to stderr, so that --json output on stdout stays parseable.
    worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    worker.on('message', (m: From | WorkerNotice) => {
      // A worker whose request failed has lost its shard's states: it takes no further work.
      if (m.type === 'error') return this.fail((m as WorkerNotice & { type: 'error' }).message);
      if (m.type === 'progress') return this.pending?.onProgress?.((m as WorkerNotice & { type: 'progress' }).done);
      const pending = this.pending;
      this.pending = null;
      pending?.resolve(m as From);
    });
    worker.on('error', (e) => this.fail(`threw ${firstLine(e)}`));
    worker.on('messageerror', (e) => this.fail(`sent a message that could not be read (${firstLine(e)})`));
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        live--;
        this.fail(this.stopping ? 'was stopped' : `exited unexpectedly (exit code ${code})`);
        resolve();
      }),
    );
  }

  private error(detail: string): L2oError {
    const what = `${this.role} ${this.index + 1} of ${this.count}`;
    return this.started ? new L2oError(`${what} failed: ${detail}`) : new L2oError(`${what} could not start: ${detail}`, this.startHint);
  }

  private fail(detail: string): void {
    this.failure ??= this.error(detail);
    this.pending?.reject(this.failure);
    this.pending = null;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Sends a request; `onProgress` gets the worker's progress notices until it is answered. */
  request(msg: To, transfer: ArrayBuffer[] = [], onProgress?: (done: number) => void): Promise<From> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(this.error('a request was sent before the previous one was answered (internal error).'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onProgress };
      try {
        this.worker.postMessage(msg, transfer);
      } catch (e) {
        this.fail(`could not be sent its work (${firstLine(e)})`);
      }
    });
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
    await this.exited;
  }
}

/** A copy of a set's arrays (a slice is a view: posting it would copy the whole batch's buffer). */
export function ownSet(set: InstanceSet): { set: InstanceSet; buffers: ArrayBuffer[] } {
  const copy: InstanceSet = { ...set, A: set.A.slice(), b: set.b.slice(), xTrue: set.xTrue?.slice(), fStar: set.fStar?.slice() };
  const buffers = [copy.A, copy.b, copy.xTrue, copy.fStar].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
  return { set: copy, buffers };
}

/**
 * Starts `count` workers of an entry and sends each `init` (which boots the platform); they must
 * answer { type: 'ready', backend } on the main thread's backend. On any failure every one is ended.
 */
export async function startThreadWorkers<To, From extends { type: string }>(
  entry: URL,
  count: number,
  role: string,
  platform: WorkerPlatform,
  init: To,
): Promise<ThreadWorker<To, From>[]> {
  const hint = `Workers load plugins found from ${[...platform.searchFrom, ...platform.pluginPaths].join(', ') || '(nowhere)'} on engine ${platform.engine}.`;
  const workers: ThreadWorker<To, From>[] = [];
  try {
    for (let i = 0; i < count; i++) workers.push(new ThreadWorker<To, From>(i, count, new Worker(entry, { stdout: true }), hint, role));
    const replies = await Promise.all(workers.map((w) => w.request(init)));
    const backend = tf.getBackend();
    replies.forEach((r, i) => {
      const ready = r as unknown as { type: string; backend?: string };
      if (ready.type === 'ready' && ready.backend !== backend) {
        throw new L2oError(
          `${role} ${i + 1} of ${count} runs on the '${ready.backend}' backend, the main thread on '${backend}'.`,
          `Pass --backend ${backend}.`,
        );
      }
    });
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  for (const w of workers) w.started = true;
  return workers;
}

/**
 * N workers, each owning a fixed contiguous shard of a global step's micro-batches. Per segment
 * the current weights go out and the shards' weighted loss and gradient sums come back, summed
 * here in shard order (so a given worker count is reproducible).
 */
export class SegmentWorkerPool {
  private constructor(private readonly workers: ThreadWorker[]) {}

  static async start(count: number, recipe: WorkerRecipe): Promise<SegmentWorkerPool> {
    return new SegmentWorkerPool(
      await startThreadWorkers<ToWorker, FromWorker>(workerEntry(), count, 'Training worker', recipe.platform, { type: 'init', recipe }),
    );
  }

  get size(): number {
    return this.workers.length;
  }

  get failed(): boolean {
    return this.workers.some((w) => w.failed);
  }

  /** The micro-batch indices [from, to) of each worker: contiguous, sizes differing by at most one. */
  shards(parts: number): [number, number][] {
    const n = this.workers.length;
    return this.workers.map((_, i) => [Math.floor((i * parts) / n), Math.floor(((i + 1) * parts) / n)]);
  }

  /**
   * Posts a global step's micro-batches (once per step). Each worker gets a dropout generator
   * forked from the step's by its shard index, so runs with workers are reproducible.
   */
  async beginStep(parts: { set: InstanceSet; weight: number }[], rng?: Rng): Promise<void> {
    if (parts.length < this.workers.length) {
      throw new L2oError(
        `The batch has ${parts.length} micro-batches, fewer than the ${this.workers.length} training workers.`,
        'Use fewer workers or a smaller micro-batch.',
      );
    }
    const shards = this.shards(parts.length);
    await Promise.all(
      this.workers.map((w, i) => {
        const own = parts.slice(...shards[i]!).map((p) => ({ ...ownSet(p.set), weight: p.weight }));
        return w.request(
          { type: 'batch', parts: own.map(({ set, weight }) => ({ set, weight })), rng: rng ? rng.fork(`shard-${i}`).getState() : null },
          own.flatMap((p) => p.buffers),
        );
      }),
    );
  }

  /** Fresh initial states for the current micro-batches (the bench's repeats start at k = 0). */
  async restart(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'restart' })));
  }

  /** One segment on every shard; returns the summed weighted loss and gradients (variable order). */
  async segment(weights: Float32Array[], k0: number, unroll: number): Promise<{ loss: number; grads: Float32Array[]; workerTensors: number[] }> {
    const replies = await Promise.all(
      this.workers.map((w) => {
        const own = weights.map((a) => a.slice());
        return w.request(
          { type: 'segment', weights: own, k0, unroll },
          own.map((a) => a.buffer),
        );
      }),
    );
    let loss = 0;
    const sums = weights.map((a) => new Float64Array(a.length));
    for (const r of replies) {
      if (r.type !== 'segment') throw new L2oError(`A training worker answered '${r.type}' to a segment request (internal error).`);
      loss += r.loss;
      r.grads.forEach((g, i) => {
        const sum = sums[i]!;
        for (let j = 0; j < g.length; j++) sum[j]! += g[j]!;
      });
    }
    return { loss, grads: sums.map((s) => Float32Array.from(s)), workerTensors: replies.map((r) => (r as { numTensors: number }).numTensors) };
  }

  /** Frees the step's micro-batches in every worker; returns each worker's remaining tensor count. */
  async endStep(): Promise<number[]> {
    if (this.failed) return [];
    const replies = await Promise.all(this.workers.map((w) => w.request({ type: 'release' })));
    return replies.map((r) => (r as { numTensors: number }).numTensors);
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Starts a pool for a model and problem: the workers rebuild both from their ids and configs. */
export function startSegmentPool(model: LearnedOptimizer, problem: Problem, count: number, platform?: WorkerPlatform): Promise<SegmentWorkerPool> {
  checkWorkersOnEngine(platform?.engine ?? '', count);
  return SegmentWorkerPool.start(count, {
    platform: platform ?? fallbackWorkerPlatform(),
    model: { id: model.modelId, config: structuredClone({ ...model.config }) },
    problem: { id: problem.id, options: structuredClone({ ...problem.options }) },
    shapes: model.variables().map((v) => [...v.shape]),
  });
}

/**
 * `runSegment` over the pool's shards: the model's current weights go to the workers, and the
 * summed loss and gradients come back as tensors named after this thread's variables.
 */
export async function runParallelSegment(
  pool: SegmentWorkerPool,
  model: LearnedOptimizer,
  k0: number,
  unroll: number,
): Promise<{ loss: number; grads: tf.NamedTensorMap }> {
  const variables = model.variables();
  const weights = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const { loss, grads } = await pool.segment(weights, k0, unroll);
  return { loss, grads: Object.fromEntries(variables.map((v, i) => [v.name, tf.tensor(grads[i]!, v.shape)])) };
}
