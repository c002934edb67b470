import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import {
  cachedCheckpointPath,
  isL2oError,
  trainingLogOf,
  writeComparisonRun,
  writeFileAtomic,
  type EvaluatedOptimizer,
  type Platform,
  type TrainedOptimizer,
} from '@l2o/core';
import { openRunStore, type SqlRunStore } from '@l2o/store';
import { childPlatformOf, runInChild, type JobProgress } from '../child.js';
import { connectionOf, decodeResult, encodeResult, isCancelled, openRedis, QUEUE_NAME, type ConnectionEvent } from './connection.js';
import type { QueuedJob } from './submit.js';

/** Progress a worker reports on a job (read by `l2o sweep status`). */
export interface QueuedProgress extends Partial<JobProgress> {
  worker: string;
}

export type WorkerEvent =
  | { kind: 'start'; job: QueuedJob['job']; attempt: number }
  | { kind: 'done'; job: QueuedJob['job']; seconds: number; skipped: boolean; resumedAfter?: number }
  | { kind: 'failed'; job: QueuedJob['job']; message: string };

export interface WorkerOptions {
  /** Jobs at once, each in its own process (default: the number of cores). */
  concurrency: number;
  /** Seconds after which a job whose worker stopped renewing its lock (killed, machine down) goes to another worker. */
  stalledAfterSeconds: number;
  onEvent?: (e: WorkerEvent) => void;
  /** Hears when the connection to Redis is lost (the worker reconnects with backoff and goes on) and when it is back. */
  onConnection?: (e: ConnectionEvent) => void;
}

/** Keys of results in the store's job_results: written once per job key. */
const RESULT = {
  checkpoint: (key: string) => `checkpoint:${key}`,
  trainingLog: (key: string) => `training-log:${key}`,
  resume: (key: string) => `resume:${key}`,
  evaluation: (key: string) => `evaluation:${key}`,
};

const firstLine = (e: unknown) => (isL2oError(e) ? e.message : ((e as Error).message ?? String(e)).split('\n')[0]!);

/** Whether a worker could start: its queue's Redis answers and its store opens (one line each if not). */
export async function checkWorkerConnections(queueUrl: string, storeLocation: string): Promise<void> {
  (await openRedis(queueUrl)).disconnect();
  await (await openRunStore(storeLocation, { waitForLockMs: 120_000 })).close();
}

/**
 * `l2o worker`: takes jobs of any sweep from the queue, runs trainings and evaluations in child
 * processes, keeps resume checkpoints, checkpoints and evaluations in the shared store (so a job
 * taken over from a killed worker resumes where that worker's last validation was), and writes
 * each run once. Resolves with a handle to close it.
 */
export async function startWorker(
  platform: Platform,
  queueUrl: string,
  storeLocation: string,
  options: WorkerOptions,
): Promise<{ close(graceMs?: number): Promise<boolean>; name: string }> {
  // Checked now, so that a wrong queue or store fails at start and not at the first job.
  await checkWorkerConnections(queueUrl, storeLocation);
  // Survives Redis restarts: its commands wait for the reconnection instead of failing the job.
  const redis = await openRedis(queueUrl, options.onConnection);
  const name = `${os.hostname()}-${process.pid}`;
  const child = childPlatformOf(platform);
  const emit = options.onEvent ?? (() => {});
  const shutdown = new AbortController();
  // Aborted when a stopping worker's grace period is over: its job processes are killed.
  const abandon = new AbortController();

  async function withStore<T>(fn: (store: SqlRunStore) => Promise<T>): Promise<T> {
    const store = await openRunStore(storeLocation, { waitForLockMs: 120_000 });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  /** A checkpoint (and its training log) from the store into this machine's cache, where the job processes read it. */
  async function fetchCheckpoint(key: string): Promise<boolean> {
    const file = cachedCheckpointPath(child.cacheDir, key);
    if (existsSync(file)) return true;
    const [checkpoint, log] = await withStore((s) => Promise.all([s.getJobResult(RESULT.checkpoint(key)), s.getJobResult(RESULT.trainingLog(key))]));
    if (checkpoint === null) return false;
    if (log !== null) writeFileAtomic(trainingLogOf(file), log);
    writeFileAtomic(file, checkpoint);
    return true;
  }

  /** A cached checkpoint and its training log into the store (once per key); its resume state is stale now. */
  async function storeCheckpoint(key: string, file: string): Promise<void> {
    const log = existsSync(trainingLogOf(file)) ? readFileSync(trainingLogOf(file), 'utf8') : null;
    await withStore(async (s) => {
      await s.putJobResult(RESULT.checkpoint(key), 'checkpoint', readFileSync(file, 'utf8'));
      if (log !== null) await s.putJobResult(RESULT.trainingLog(key), 'training-log', log);
      await s.deleteJobResult(RESULT.resume(key));
    });
  }

  /** Runs a compute job in a child process; every second: cancelled sweep → kill it; a new resume file → into the store. */
  async function compute(job: Job<QueuedJob>, resumeOf?: string): Promise<unknown> {
    const kill = new AbortController();
    let uploaded = resumeOf && existsSync(resumeOf) ? statSync(resumeOf).mtimeMs : 0;
    const upload = async () => {
      if (!resumeOf || !existsSync(resumeOf)) return;
      const mtime = statSync(resumeOf).mtimeMs;
      if (mtime <= uploaded) return;
      uploaded = mtime;
      const content = readFileSync(resumeOf, 'utf8');
      await withStore((s) => s.putJobResult(RESULT.resume(job.data.job.key), 'resume', content, { replace: true }));
    };
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        try {
          if (await isCancelled(redis, job.data.sweepId)) kill.abort();
          await upload();
        } catch {
          // The next tick tries again; a lost upload costs at most one validation interval.
        } finally {
          busy = false;
        }
      })();
    }, 1000);
    try {
      const sj = job.data.job;
      if (sj.kind === 'run') throw new Error('a run job is not computed in a child');
      return await runInChild(sj, child, {
        onProgress: (p) => void job.updateProgress({ ...p, worker: name } satisfies QueuedProgress).catch(() => {}),
        stop: shutdown.signal,
        kill: AbortSignal.any([kill.signal, abandon.signal]),
      });
    } finally {
      clearInterval(timer);
      // The last resume state (a stopped worker's) goes to the store for whoever takes the job next.
      await upload().catch(() => {});
    }
  }

  async function failedChildren(job: Job<QueuedJob>): Promise<string | null> {
    const failures = Object.values(await job.getIgnoredChildrenFailures());
    return failures.length ? failures[0]! : null;
  }

  async function processJob(job: Job<QueuedJob>): Promise<unknown> {
    const { sweepId, job: sj } = job.data;
    if (await isCancelled(redis, sweepId)) throw new UnrecoverableError('the sweep was cancelled');
    emit({ kind: 'start', job: sj, attempt: job.attemptsMade + 1 });
    const t0 = Date.now();
    const done = (skipped: boolean, extra: Record<string, unknown> = {}) => {
      emit({ kind: 'done', job: sj, seconds: (Date.now() - t0) / 1000, skipped, ...extra });
      return { skipped, worker: name, ...extra };
    };
    if (sj.kind === 'train') {
      const file = cachedCheckpointPath(child.cacheDir, sj.key);
      // Trained before on this machine (l2o run, a local sweep) but not in the store: shared from here.
      if (existsSync(file) && (await withStore((s) => s.getJobResult(RESULT.checkpoint(sj.key)))) === null) await storeCheckpoint(sj.key, file);
      if (await fetchCheckpoint(sj.key)) return done(true);
      const resume = await withStore((s) => s.getJobResult(RESULT.resume(sj.key)));
      if (resume !== null) writeFileAtomic(`${file}.resume`, resume);
      const trained = (await compute(job, `${file}.resume`)) as TrainedOptimizer;
      await storeCheckpoint(sj.key, file);
      return done(false, { resumedAfter: trained.resumedAfter, trainingSeconds: trained.seconds });
    }
    if (sj.kind === 'evaluate') {
      if ((await withStore((s) => s.getJobResult(RESULT.evaluation(sj.key)))) !== null) return done(true);
      const failed = await failedChildren(job);
      if (failed) throw new UnrecoverableError(`its training failed: ${failed}`);
      if (sj.train && !(await fetchCheckpoint(sj.train))) throw new UnrecoverableError(`'${sj.label}' has no trained checkpoint in the store.`);
      const evaluated = (await compute(job)) as EvaluatedOptimizer;
      await withStore((s) => s.putJobResult(RESULT.evaluation(sj.key), 'evaluation', encodeResult(evaluated)));
      return done(false, { finalGap: evaluated.summary.finalGap });
    }
    if (await withStore((s) => s.getRun(sj.key))) return done(true, { runId: sj.key });
    const failed = await failedChildren(job);
    if (failed) throw new UnrecoverableError(`not written: one of its jobs failed: ${failed}`);
    const evaluated = await withStore((s) => Promise.all(sj.evaluations.map((key) => s.getJobResult(RESULT.evaluation(key)))));
    if (evaluated.some((e) => e === null)) throw new UnrecoverableError('not written: an evaluation it needs is not in the store.');
    await writeComparisonRun(
      platform,
      sj.comparison,
      evaluated.map((e) => decodeResult<EvaluatedOptimizer>(e!)),
      { runId: sj.key },
    );
    return done(false, { runId: sj.key });
  }

  const worker = new Worker<QueuedJob>(
    QUEUE_NAME,
    async (job) => {
      try {
        return await processJob(job);
      } catch (e) {
        // A job killed at the end of a stopping worker's grace period did not fail: another worker takes it.
        if (!abandon.signal.aborted) emit({ kind: 'failed', job: job.data.job, message: firstLine(e) });
        // Bad input does not get better on retry.
        if (isL2oError(e) && e.exitCode === 2) throw new UnrecoverableError(e.message);
        if (e instanceof UnrecoverableError) throw e;
        throw new Error(firstLine(e), { cause: e });
      }
    },
    {
      connection: connectionOf(queueUrl),
      concurrency: options.concurrency,
      lockDuration: options.stalledAfterSeconds * 1000,
      stalledInterval: options.stalledAfterSeconds * 1000,
      maxStalledCount: 3,
    },
  );
  worker.on('error', () => {}); // connection losses: BullMQ reconnects; `redis` reports them
  return {
    name,
    /**
     * Stops taking jobs; running ones save their state and stop. Whatever Redis does (a close
     * waits for it), this returns within `graceMs`: false if the jobs' processes had to be
     * killed and the queue's connections dropped (their jobs go to another worker after
     * --stalled-after).
     */
    async close(graceMs = 30_000) {
      shutdown.abort('SIGTERM');
      const deadline = new AbortController();
      const inTime = await Promise.race([
        worker.close().then(
          () => true,
          () => true,
        ),
        sleep(graceMs, false, { signal: deadline.signal }).catch(() => false),
      ]);
      deadline.abort();
      if (!inTime) {
        abandon.abort();
        void worker.disconnect().catch(() => {});
      }
      redis.disconnect();
      return inTime;
    },
  };
}
