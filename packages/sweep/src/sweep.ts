import path from 'node:path';
import type { Platform } from '@l2o/core';
import { loadRunDir } from '@l2o/report';
import { existsSync } from 'node:fs';
import { childPlatformOf } from './child.js';
import { runSweepLocally, type SweepEvent, type SweepOutcome } from './local-executor.js';
import { planSweep, sweepIdOf, type SweepPlan, type SweepRequest } from './plan.js';
import { reportSweep, type SweepReport } from './report.js';
import { LOCAL_STATUS_FILE, LocalSweepStatus } from './local-status.js';

export interface LocalSweepResult {
  id: string;
  plan: SweepPlan;
  outcome: SweepOutcome;
  report: SweepReport;
  reportDir: string;
}

/**
 * `l2o sweep` without a queue: plans the sweep, runs its jobs in `workers` local processes,
 * and aggregates its runs over seeds into `<reports dir, default ./sweeps>/<sweep id>/`.
 */
export async function runLocalSweep(
  platform: Platform,
  request: SweepRequest,
  options: { workers: number; onEvent?: (e: SweepEvent) => void; signal?: AbortSignal; plan?: SweepPlan; reportsDir?: string },
): Promise<LocalSweepResult> {
  const plan = options.plan ?? planSweep(platform, request);
  const id = sweepIdOf(plan);
  // Beside the runs folder, not in it: every folder in it is a run.
  const reportDir = path.join(options.reportsDir ?? path.resolve('sweeps'), id);
  const live = new LocalSweepStatus(path.join(reportDir, LOCAL_STATUS_FILE), id, plan, options.workers);
  let outcome: SweepOutcome;
  try {
    outcome = await runSweepLocally(platform, plan, {
      workers: options.workers,
      child: childPlatformOf(platform),
      onEvent: (e) => {
        live.handle(e);
        options.onEvent?.(e);
      },
      signal: options.signal,
    });
  } finally {
    live.finish(options.signal?.aborted ?? false);
  }
  const report = await reportSweep(
    plan,
    async (runId) => {
      const dir = path.join(platform.settings.runsDir, runId);
      return existsSync(path.join(dir, 'summary.json')) ? loadRunDir(dir) : null;
    },
    reportDir,
  );
  return { id, plan, outcome, report, reportDir };
}
