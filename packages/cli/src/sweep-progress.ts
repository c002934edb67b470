import type { SweepEvent, SweepJob, SweepPlan } from '@l2o/sweep';

/** What a job is, for people: `train lstm (seed 1)`. */
export function jobText(job: { kind: SweepJob['kind']; key: string; label?: string; seed: number; grid?: Record<string, unknown> }): string {
  const point = job.grid
    ? `, ${Object.entries(job.grid)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}`
    : '';
  return job.kind === 'run' ? `write run ${job.key}` : `${job.kind} ${job.label ?? ''} (seed ${job.seed}${point})`;
}

/** A line per finished or failed job on stderr: `[3/21] train lstm (seed 1) 12.3 s` (a campaign's: `[3/21] fig1: train …`). */
export class SweepProgress {
  private finished = 0;
  constructor(
    private readonly plan: Pick<SweepPlan, 'jobs'>,
    private readonly enabled: boolean,
    private readonly figureOf?: (job: SweepJob) => string,
  ) {}

  handle(e: SweepEvent): void {
    if (!this.enabled) return;
    const describe = (job: SweepJob) =>
      `${this.figureOf ? `${this.figureOf(job)}: ` : ''}${jobText({ ...job, seed: job.comparison.seed, grid: job.comparison.grid })}`;
    const total = this.plan.jobs.length;
    if (e.kind === 'done') {
      this.finished++;
      process.stderr.write(
        `[${this.finished}/${total}] ${describe(e.job)} ${e.skipped ? (e.evaluated ? 'done (kept)' : 'done (cached)') : `${e.seconds.toFixed(1)} s`}\n`,
      );
    } else if (e.kind === 'failed') {
      if (e.final) this.finished++;
      process.stderr.write(
        `[${this.finished}/${total}] ${describe(e.job)} failed (attempt ${e.attempt}${e.final ? ', giving up' : ', retrying'}): ${e.message}\n`,
      );
    } else if (e.kind === 'interrupted') {
      this.finished++;
      process.stderr.write(`[${this.finished}/${total}] ${describe(e.job)} ${e.started ? `interrupted: ${e.message}` : 'not run (interrupted)'}\n`);
    }
  }
}
