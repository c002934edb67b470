import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@l2o/core';
import type { SweepEvent } from './local-executor.js';
import type { SweepPlan } from './plan.js';
import { countsAndEta, type SweepJobStatus, type SweepStatus } from './queue/status.js';

const NOT_RUN_INTERRUPTED = 'not run (interrupted)';

/** Where a local sweep keeps its live status: `<reports dir>/<sweep id>/status.json`. */
export const LOCAL_STATUS_FILE = 'status.json';

/**
 * The live status of a sweep run by the local executor, in the shape `l2o sweep status` gives
 * for a queued one, written (atomically, at most once a second, and at the end) to
 * `<reports dir>/<sweep id>/status.json`, where `l2o dashboard --sweeps` follows it.
 */
export class LocalSweepStatus {
  private readonly jobs = new Map<string, SweepJobStatus>();
  private timer: NodeJS.Timeout | null = null;
  private finished = false;

  constructor(
    private readonly file: string,
    private readonly id: string,
    private readonly plan: SweepPlan,
    private readonly workers: number,
  ) {
    for (const job of plan.jobs) {
      this.jobs.set(job.key, {
        id: job.key,
        kind: job.kind,
        key: job.key,
        ...(job.kind === 'run' ? {} : { label: job.label }),
        seed: job.comparison.seed,
        state: 'waiting',
        attempts: 0,
      });
    }
    this.write();
  }

  handle(e: SweepEvent): void {
    const job = this.jobs.get(e.job.key);
    if (!job) return;
    if (e.kind === 'start') {
      Object.assign(job, { state: 'active', attempts: e.attempt, startedAt: new Date().toISOString() });
      delete job.error;
    } else if (e.kind === 'progress') {
      job.progress = { ...e.progress, worker: 'local' };
    } else if (e.kind === 'done') {
      // Skipped: done from a cache (its checkpoint cached, its run written), which `cached` says.
      const result = e.skipped ? { skipped: true, cached: true } : { skipped: false };
      Object.assign(job, { state: 'completed', seconds: e.seconds, finishedAt: new Date().toISOString(), result });
      delete job.progress;
    } else if (e.kind === 'interrupted') {
      Object.assign(job, { state: 'cancelled', error: e.started ? 'interrupted' : NOT_RUN_INTERRUPTED, finishedAt: new Date().toISOString() });
      delete job.progress;
    } else {
      Object.assign(job, {
        state: e.final ? 'failed' : 'waiting',
        error: e.message,
        attempts: e.attempt,
        ...(e.final ? { finishedAt: new Date().toISOString() } : {}),
      });
      delete job.progress;
    }
    this.schedule();
  }

  /** The last write: no job is left active or waiting once the sweep has returned. */
  finish(interrupted: boolean): void {
    this.finished = true;
    for (const job of this.jobs.values()) {
      if (job.state !== 'waiting' && job.state !== 'active') continue;
      delete job.progress;
      if (interrupted) Object.assign(job, { state: 'cancelled', error: job.state === 'active' ? 'interrupted' : NOT_RUN_INTERRUPTED });
      else Object.assign(job, { state: 'failed', error: job.error ?? (job.state === 'active' ? 'did not finish' : 'not run: a job it needs failed') });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write();
  }

  status(): SweepStatus {
    const jobs = [...this.jobs.values()];
    const { counts, etaSeconds } = countsAndEta(jobs, this.workers);
    return {
      id: this.id,
      name: this.plan.name,
      cancelled: counts.cancelled > 0,
      counts,
      jobs,
      etaSeconds,
      finished: this.finished || (counts.waiting === 0 && counts.active === 0),
    };
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.write();
    }, 1000);
  }

  private write(): void {
    try {
      writeFileAtomic(this.file, `${JSON.stringify({ ...this.status(), updatedAt: new Date().toISOString() })}\n`);
    } catch {
      // The status file is for watching; a sweep does not fail because it cannot be written.
    }
  }
}

/** The local sweeps under a reports folder (`<dir>/<sweep id>/status.json`), newest first. */
export function readLocalSweeps(dir: string): (SweepStatus & { updatedAt: string })[] {
  if (!existsSync(dir)) return [];
  const out: (SweepStatus & { updatedAt: string })[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name, LOCAL_STATUS_FILE);
    if (!entry.isDirectory() || !existsSync(file)) continue;
    try {
      out.push(JSON.parse(readFileSync(file, 'utf8')) as SweepStatus & { updatedAt: string });
    } catch {
      // Being replaced this instant, or not ours: left out of this listing.
    }
  }
  return out.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
}
