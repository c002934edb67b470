import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { L2oError } from '@l2o/core';
import { openRunStore } from '@l2o/store';
import { reportSweep, type SweepReport } from '../report.js';
import {
  connectionOf,
  hasSweepRecord,
  isCancelled,
  listSweepRecords,
  lostSweepError,
  markCancelled,
  openRedis,
  QUEUE_NAME,
  readSweepRecord,
  type ConnectionEvent,
  type SweepRecord,
} from './connection.js';
import type { QueuedProgress } from './worker.js';

export type JobStateName = 'waiting' | 'active' | 'completed' | 'failed' | 'cancelled';

export interface SweepJobStatus {
  id: string;
  kind: 'train' | 'evaluate' | 'run';
  key: string;
  label?: string;
  seed: number;
  state: JobStateName;
  attempts: number;
  progress?: QueuedProgress;
  /** The one-line reason of the last failure. */
  error?: string;
  /** What the job returned (skipped, resumedAfter, finalGap, runId, worker). */
  result?: Record<string, unknown>;
  seconds?: number;
  /** When its last attempt started and when it finished (ISO 8601): the sweep's timeline. */
  startedAt?: string;
  finishedAt?: string;
}

export interface SweepStatus {
  id: string;
  name: string;
  cancelled: boolean;
  counts: Record<JobStateName, number>;
  jobs: SweepJobStatus[];
  /** Seconds until done, from the mean time of the finished trainings and evaluations (null: not known yet). */
  etaSeconds: number | null;
  finished: boolean;
}

const STATE: Record<string, JobStateName> = {
  wait: 'waiting',
  waiting: 'waiting',
  prioritized: 'waiting',
  delayed: 'waiting',
  'waiting-children': 'waiting',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

async function withQueue<T>(
  url: string,
  fn: (queue: Queue, record: (id: string) => Promise<SweepRecord>, redis: Awaited<ReturnType<typeof openRedis>>) => Promise<T>,
  onConnection?: (e: ConnectionEvent) => void,
): Promise<T> {
  const redis = await openRedis(url, onConnection);
  const queue = new Queue(QUEUE_NAME, { connection: connectionOf(url) });
  // Its connection reconnects by itself (its commands wait meanwhile); `redis` reports the loss.
  queue.on('error', () => {});
  try {
    return await fn(queue, (id) => readSweepRecord(redis, id, url), redis);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

async function statusOf(queue: Queue, record: SweepRecord, cancelled: boolean): Promise<SweepStatus> {
  const jobs: SweepJobStatus[] = [];
  for (const j of record.jobs) {
    const job = await queue.getJob(j.id);
    const state = job ? (STATE[await job.getState()] ?? 'waiting') : 'cancelled';
    jobs.push({
      ...j,
      state,
      attempts: job?.attemptsMade ?? 0,
      ...(job && typeof job.progress === 'object' && state === 'active' ? { progress: job.progress as QueuedProgress } : {}),
      ...(job?.failedReason && state !== 'completed' ? { error: job.failedReason } : {}),
      ...(state === 'completed' && job?.returnvalue ? { result: job.returnvalue as Record<string, unknown> } : {}),
      ...(job?.processedOn && job.finishedOn ? { seconds: (job.finishedOn - job.processedOn) / 1000 } : {}),
      ...(job?.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
      ...(job?.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    });
  }
  const { counts, etaSeconds } = countsAndEta(jobs, Infinity);
  return { id: record.id, name: record.name, cancelled, counts, jobs, etaSeconds, finished: counts.waiting === 0 && counts.active === 0 };
}

/**
 * Jobs per state, and the ETA: the work left (waiting jobs, and what active ones have left) at
 * the mean pace of the finished compute jobs, spread over the jobs running now (at most `slots`);
 * null until a compute job has finished. A queued and a local sweep's status both use it.
 */
export function countsAndEta(jobs: readonly SweepJobStatus[], slots: number): { counts: Record<JobStateName, number>; etaSeconds: number | null } {
  const counts: Record<JobStateName, number> = { waiting: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const j of jobs) counts[j.state]++;
  const finished = jobs.filter((j) => j.state === 'completed' && j.kind !== 'run' && !j.result?.skipped && j.seconds !== undefined);
  const mean = finished.length ? finished.reduce((a, j) => a + j.seconds!, 0) / finished.length : null;
  const left =
    jobs.filter((j) => j.state === 'waiting' && j.kind !== 'run').length +
    jobs
      .filter((j) => j.state === 'active' && j.kind !== 'run')
      .reduce((a, j) => a + (j.progress?.total ? 1 - (j.progress.done ?? 0) / j.progress.total : 1), 0);
  return { counts, etaSeconds: mean === null ? null : (left * mean) / Math.max(1, Math.min(slots, counts.active)) };
}

/**
 * Where each job of a submitted sweep is: waiting, active (with its progress), completed, failed
 * (why), cancelled. With `onConnection`, a Redis restart meanwhile is waited out (and reported).
 */
export async function sweepStatus(url: string, id: string, onConnection?: (e: ConnectionEvent) => void): Promise<SweepStatus> {
  return withQueue(url, async (queue, record, redis) => statusOf(queue, await record(id), await isCancelled(redis, id)), onConnection);
}

/** The status of every sweep submitted to this queue, newest first. */
export async function listSweeps(url: string): Promise<SweepStatus[]> {
  return withQueue(url, async (queue, _record, redis) => {
    const out: SweepStatus[] = [];
    for (const record of await listSweepRecords(redis)) out.push(await statusOf(queue, record, await isCancelled(redis, record.id)));
    return out;
  });
}

/**
 * Polls until no job of the sweep is waiting or active; `onStatus` sees each poll. Redis restarts
 * are waited out (reconnecting with backoff; `onConnection` hears of each loss and return); a
 * sweep whose record is gone afterwards (a Redis without persistence) fails with the command that
 * resubmits it.
 */
export async function waitForSweep(
  url: string,
  id: string,
  onStatus: (s: SweepStatus) => void = () => {},
  signal?: AbortSignal,
  everyMs = 2000,
  onConnection?: (e: ConnectionEvent) => void,
): Promise<SweepStatus> {
  return withQueue(
    url,
    async (queue, record, redis) => {
      const rec = await record(id);
      for (;;) {
        const status = await statusOf(queue, rec, await isCancelled(redis, id));
        // Checked after the jobs: jobs missing because of a restart meanwhile would read as cancelled.
        if (!(await hasSweepRecord(redis, id))) throw lostSweepError(id, url, rec.request);
        onStatus(status);
        if (status.finished) return status;
        signal?.throwIfAborted();
        await sleep(everyMs, undefined, { signal }).catch(() => {});
        if (signal?.aborted) return status;
      }
    },
    onConnection,
  );
}

/**
 * Cancels a sweep: its waiting jobs are removed, workers kill the processes of its active ones
 * (they check every second); returns when none of its jobs runs any more.
 */
export async function cancelSweep(url: string, id: string, timeoutMs = 120_000): Promise<SweepStatus> {
  return withQueue(url, async (queue, record, redis) => {
    const rec = await record(id);
    await markCancelled(redis, id);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const j of rec.jobs) {
        const job = await queue.getJob(j.id);
        if (!job) continue;
        const state = await job.getState();
        if (state !== 'active' && state !== 'completed' && state !== 'failed') await job.remove({ removeChildren: true }).catch(() => {});
      }
      const status = await statusOf(queue, rec, true);
      if (status.counts.active === 0 && status.counts.waiting === 0) return status;
      if (Date.now() > deadline) {
        throw new L2oError(
          `Sweep ${id}: ${status.counts.active} job(s) still run ${timeoutMs / 1000} s after the cancel.`,
          'Are their workers alive? Stop them, or cancel again.',
        );
      }
      await sleep(1000);
    }
  });
}

/** Aggregates the runs of a submitted sweep that are in the store (see reportSweep). */
export async function reportQueuedSweep(url: string, id: string, storeLocation: string, outDir: string): Promise<SweepReport & { record: SweepRecord }> {
  const record = await withQueue(url, async (_queue, read) => read(id));
  const store = await openRunStore(storeLocation);
  try {
    const report = await reportSweep(
      record,
      async (runId) => {
        const run = await store.getRun(runId);
        return run && { id: run.id, summary: run.summary, curves: run.curves };
      },
      outDir,
    );
    return { ...report, record };
  } finally {
    await store.close();
  }
}
