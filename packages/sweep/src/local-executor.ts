import path from 'node:path';
import {
  cachedCheckpointPath,
  InterruptedError,
  isL2oError,
  readCachedCheckpoint,
  stopSignalOf,
  writeComparisonRun,
  type EvaluatedOptimizer,
  type Platform,
  type StopSignal,
} from '@l2o/core';
import { JobProcessDied, runInChild, type ChildPlatform, type ComputeJob, type JobProgress } from './child.js';
import { jobsNeeded, runWritten, type SweepJob, type SweepPlan } from './plan.js';
import { Slots } from './slots.js';

/** A job whose process dies is tried this many times before it counts as failed (its dependents then fail too). */
export const JOB_ATTEMPTS = 3;

export type SweepEvent =
  | { kind: 'start'; job: SweepJob; attempt: number }
  | { kind: 'progress'; job: SweepJob; progress: JobProgress }
  /**
   * `skipped`: its result was there already (a cached checkpoint, a kept evaluation, a written run),
   * nothing ran. `evaluated`: an evaluation job's result.
   */
  | { kind: 'done'; job: SweepJob; seconds: number; skipped: boolean; evaluated?: EvaluatedOptimizer }
  | { kind: 'failed'; job: SweepJob; message: string; attempt: number; final: boolean }
  /** The sweep was stopped by `signal`: the job was running (`started`, with its process's message), or never ran. */
  | { kind: 'interrupted'; job: SweepJob; signal: StopSignal; started: boolean; message?: string };

export interface LocalSweepOptions {
  /** Job processes at once (default: one per core). */
  workers: number;
  child: ChildPlatform;
  onEvent?: (e: SweepEvent) => void;
  signal?: AbortSignal;
  /** An evaluation's result kept from before (a campaign keeps them), or null: it is not evaluated again. */
  keptEvaluation?: (job: Extract<SweepJob, { kind: 'evaluate' }>) => EvaluatedOptimizer | null;
  /**
   * What a job is expected to take, in seconds (a campaign knows from its earlier sessions); it
   * wins over this process's own timings, which may be a resumed training's part. Undefined: use those.
   */
  expectedSeconds?: (job: ComputeJob) => number | undefined;
  /** A job's group: a free worker takes a job of the lowest group waiting (a campaign's entries, in order). Default 0. */
  groupOf?: (job: SweepJob) => number;
}

export interface SweepOutcome {
  /** Every comparison's run: its directory, and where it was stored. */
  runs: { runId: string; runDir: string; written: boolean; stored?: { id: string; location: string } }[];
  failed: { job: SweepJob; message: string }[];
  seconds: number;
}

/** A failure in one line, with its fix (the hint) when it has one. */
const messageOf = (e: unknown) => (isL2oError(e) ? [e.message, e.hint].filter(Boolean).join(' ') : ((e as Error).message ?? String(e)).split('\n')[0]!);

/**
 * Runs a sweep on this machine: trainings and evaluations in up to `workers` job processes at
 * once (each a single-threaded engine), each job as soon as what it needs is done; runs are
 * written (and stored) by this process, the one writer. A comparison whose run directory exists
 * is not run again, nor is a training whose checkpoint is cached (and verifies): those are
 * reported done and skipped. A job whose process dies is retried up to JOB_ATTEMPTS times; a job
 * that fails, and the jobs that need it, fail and the sweep goes on. Once `signal` is aborted no
 * job starts or is retried: each job not done is reported interrupted.
 */
export async function runSweepLocally(platform: Platform, plan: Pick<SweepPlan, 'comparisons' | 'jobs'>, options: LocalSweepOptions): Promise<SweepOutcome> {
  const started = Date.now();
  const { runsDir } = platform.settings;
  const slots = new Slots(Math.max(1, options.workers));
  const emit = options.onEvent ?? (() => {});
  const failed: SweepOutcome['failed'] = [];
  // What a job is expected to take (else how long one of its kind, optimizer and group took here:
  // the seeds of one optimizer take about as long): unknown jobs go first, then the longest;
  // among equals the lower seed, so that runs are written seed by seed (a campaign stopped at a
  // session's end keeps whole runs).
  const took = new Map<string, number>();
  const groupOf = (job: SweepJob) => options.groupOf?.(job) ?? 0;
  const costKey = (job: ComputeJob) => `${groupOf(job)}:${job.kind}:${job.label}:${JSON.stringify(job.comparison.grid ?? {})}`;
  const expected = (job: ComputeJob) => options.expectedSeconds?.(job) ?? took.get(costKey(job)) ?? Number.POSITIVE_INFINITY;
  const done = new Map<string, Promise<unknown>>();
  const written = (runId: string) => runWritten(runsDir, runId);
  // Only what a missing run needs is run.
  const needed = jobsNeeded(plan, written);
  // The rest serve runs that are written: done, from a cache, so a sweep run again says so.
  for (const job of plan.jobs) if (!needed.has(job.key)) emit({ kind: 'done', job, seconds: 0, skipped: true });

  /** Once the sweep is stopped, a job that has not started is not run. */
  const notRun = (job: SweepJob): InterruptedError => {
    const signal = stopSignalOf(options.signal!);
    emit({ kind: 'interrupted', job, signal, started: false });
    return new InterruptedError(signal);
  };

  async function compute(job: ComputeJob): Promise<unknown> {
    // Verified here, before its evaluation is scheduled: a corrupt one is deleted (with a
    // warning) and trained again, rather than reported done and failing the evaluation.
    if (job.kind === 'train' && readCachedCheckpoint(cachedCheckpointPath(options.child.cacheDir, job.key), (line) => platform.logger.warn(line))) {
      emit({ kind: 'done', job, seconds: 0, skipped: true });
      return null;
    }
    const kept = job.kind === 'evaluate' ? (options.keptEvaluation?.(job) ?? null) : null;
    if (kept) {
      emit({ kind: 'done', job, seconds: 0, skipped: true, evaluated: kept });
      return kept;
    }
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted) throw notRun(job);
      await slots.take(() => expected(job), job.comparison.seed, groupOf(job));
      if (options.signal?.aborted) {
        slots.give();
        throw notRun(job);
      }
      const t0 = Date.now();
      try {
        emit({ kind: 'start', job, attempt });
        const value = await runInChild(job, options.child, { onProgress: (progress) => emit({ kind: 'progress', job, progress }), stop: options.signal });
        const seconds = (Date.now() - t0) / 1000;
        took.set(costKey(job), Math.max(seconds, took.get(costKey(job)) ?? 0));
        emit({ kind: 'done', job, seconds, skipped: false, ...(job.kind === 'evaluate' ? { evaluated: value as EvaluatedOptimizer } : {}) });
        return value;
      } catch (e) {
        // Stopped (or its process killed by the same signal): interrupted, and not tried again.
        if (options.signal?.aborted && (e instanceof InterruptedError || e instanceof JobProcessDied)) {
          emit({ kind: 'interrupted', job, signal: stopSignalOf(options.signal), started: true, message: (e as Error).message });
          throw e;
        }
        // A job that reported its failure (diverged, bad data) would fail the same way again:
        // only a job whose process died (crashed, killed, out of memory) is tried again.
        const final = attempt >= JOB_ATTEMPTS || !(e instanceof JobProcessDied);
        emit({ kind: 'failed', job, message: messageOf(e), attempt, final });
        if (final) throw e;
      } finally {
        slots.give();
      }
    }
  }

  /** A job's result (jobs are scheduled after what they need, so it is there). */
  const resultOf = (key: string): Promise<unknown> => done.get(key) ?? Promise.reject(new Error(`job ${key} was not scheduled`));

  function schedule(job: SweepJob): Promise<unknown> {
    const after = job.kind === 'evaluate' ? (job.train ? [job.train] : []) : job.kind === 'run' ? job.evaluations : [];
    const promise = (async () => {
      try {
        await Promise.all(after.map(resultOf));
      } catch {
        if (options.signal?.aborted) throw notRun(job);
        const message = `not run: a job it needs failed`;
        failed.push({ job, message });
        throw new Error(message);
      }
      if (job.kind === 'run') {
        const evaluated = (await Promise.all(job.evaluations.map(resultOf))) as EvaluatedOptimizer[];
        const t0 = Date.now();
        try {
          const result = await writeComparisonRun(platform, job.comparison, evaluated, { runId: job.key });
          emit({ kind: 'done', job, seconds: (Date.now() - t0) / 1000, skipped: false });
          return result;
        } catch (e) {
          // A run that cannot be written or stored (a full disk, a store that went away): said, and the sweep goes on.
          failed.push({ job, message: messageOf(e) });
          emit({ kind: 'failed', job, message: messageOf(e), attempt: 1, final: true });
          throw e;
        }
      }
      try {
        return await compute(job);
      } catch (e) {
        if (!(e instanceof InterruptedError) && !options.signal?.aborted) failed.push({ job, message: messageOf(e) });
        throw e;
      }
    })();
    promise.catch(() => {}); // awaited by its dependents and at the end
    done.set(job.key, promise);
    return promise;
  }

  const runs: SweepOutcome['runs'] = [];
  const all = plan.jobs.filter((j) => needed.has(j.key)).map((job) => ({ job, promise: schedule(job) }));
  await Promise.allSettled(all.map((a) => a.promise));
  if (options.signal?.aborted) {
    throw new InterruptedError(
      stopSignalOf(options.signal),
      `Interrupted: the sweep stopped with ${plan.comparisons.filter((c) => written(c.runId)).length} of ${plan.comparisons.length} runs written.`,
      'Run the same command again to continue it: finished runs and trainings are kept, interrupted trainings resume.',
    );
  }
  for (const c of plan.comparisons) {
    const entry = all.find((a) => a.job.kind === 'run' && a.job.key === c.runId);
    const result = entry ? ((await entry.promise.catch(() => null)) as Awaited<ReturnType<typeof writeComparisonRun>> | null) : null;
    if (entry && !result) continue;
    runs.push({ runId: c.runId, runDir: path.join(runsDir, c.runId), written: !!entry, ...(result?.stored ? { stored: result.stored } : {}) });
  }
  return { runs, failed, seconds: (Date.now() - started) / 1000 };
}
