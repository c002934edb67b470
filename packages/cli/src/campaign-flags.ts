import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { formatDuration } from '@l2o/core';
import { secondsLeftAtPace, type Campaign, type CampaignEstimate, type CampaignPlanFile, type EvaluationUnderWay } from '@l2o/sweep';
import { cacheDirFlag, dataDirFlag, downloadFlag, runsDirFlag } from './flags.js';

/** What `l2o campaign run` and `status` share: the campaign file, its state folder and the folders a sweep uses. */
export const campaignArgs = { campaign: Args.string({ required: true, description: 'The campaign file, e.g. experiments/campaigns/paper.yaml.' }) };
export const campaignFlags = {
  state: Flags.string({ summary: "The campaign's state folder, committed with the repository (default: campaigns/<campaign name>)." }),
  ...dataDirFlag,
  ...downloadFlag,
  ...runsDirFlag,
  ...cacheDirFlag,
};

export const stateDirOf = (campaign: Campaign, flag: string | undefined) => path.resolve(flag ?? path.join('campaigns', campaign.name));

/** A line per entry: its runs, trainings and evaluations done, and a total; then the trainings and evaluations under way. */
export function campaignSummary(plan: CampaignPlanFile, evaluations: ReadonlyMap<string, EvaluationUnderWay> = new Map()): string {
  const lines = plan.entries.map(
    (e, i) =>
      `  ${String(i + 1).padStart(2)}. ${e.figure} ${e.scale} seeds ${e.seeds.join(',')}${e.grid.length ? ` grid ${e.grid.join(' ')}` : ''}: ${e.status}, runs ${e.runs.done}/${e.runs.total}, trainings ${e.trainings.done}/${e.trainings.total}, evaluations ${e.evaluations.done}/${e.evaluations.total}${resumable(e)}${failedJobs(e)}`,
  );
  const runs = plan.entries.reduce((n, e) => n + e.runs.done, 0);
  const total = plan.entries.reduce((n, e) => n + e.runs.total, 0);
  return [`campaign ${plan.campaign}: ${runs} of ${total} runs done`, ...lines, ...trainingsUnderWay(plan), ...evaluationLines(plan, evaluations)].join('\n');
}

/** Each unfinished evaluation with batches kept in the cache, once (figures share them): the next run continues after them. */
function evaluationLines(plan: CampaignPlanFile, evaluations: ReadonlyMap<string, EvaluationUnderWay>): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of plan.entries)
    for (const [key, j] of Object.entries(e.jobs)) {
      const kept = evaluations.get(key);
      if (!kept || seen.has(key)) continue;
      seen.add(key);
      lines.push(`  ${j.label} seed ${j.seed} (${e.figure}): ${kept.done} of ${kept.instances} test instances done, ${formatDuration(kept.seconds)} so far`);
    }
  return lines.length ? ['evaluations under way (their finished batches are in the cache: continued on this machine):', ...lines] : [];
}

/**
 * Each resumable training once (figures share them), with its own pace so far and the time left
 * at that pace (what the estimate counts for it).
 */
function trainingsUnderWay(plan: CampaignPlanFile): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of plan.entries)
    for (const [key, j] of Object.entries(e.jobs)) {
      if (!j.resumesAt || seen.has(key)) continue;
      seen.add(key);
      const of = j.totalSteps ? ` of ${j.totalSteps}` : '';
      const perStep = j.secondsSoFar !== undefined && j.totalSteps ? j.secondsSoFar / j.resumesAt : undefined;
      const seconds = (s: number) => (s < 10 ? s.toFixed(1) : String(Math.round(s)));
      // A training of several sessions: its last one's pace too (sessions beside other work run slower).
      const last = j.sessions && j.sessions.length > 1 ? j.sessions.at(-1) : undefined;
      const lastPace = last && last.toStep > last.fromStep ? ` (${seconds(last.seconds / (last.toStep - last.fromStep))} s in its last session)` : '';
      const pace =
        perStep !== undefined
          ? `; ${formatDuration(j.secondsSoFar!)} so far, ${seconds(perStep)} s a step${lastPace}: about ${formatDuration(secondsLeftAtPace(j)!)} more at that pace`
          : '';
      lines.push(`  ${j.label} seed ${j.seed} (${e.figure}): at step ${j.resumesAt}${of}${pace}`);
    }
  return lines.length ? ['trainings under way:', ...lines] : [];
}

/** The time left, in all and per entry with work left (when its last job ends: entries overlap). */
export function campaignEstimateText(estimate: CampaignEstimate): string {
  const lines = estimate.entries.flatMap((e, i) =>
    e.seconds > 0 ? [`  ${String(i + 1).padStart(2)}. ${e.figure} ${e.scale}: done in ${formatDuration(e.seconds)}`] : [],
  );
  const { measured, calibrated } = estimate.jobs;
  const plural = (n: number) => (n === 1 ? '' : 's');
  const source =
    measured || calibrated ? ` (${measured} job${plural(measured)} at the times the campaign measured, ${calibrated} calibrated on this machine)` : '';
  return [
    `estimated time left: ${formatDuration(estimate.seconds)} on ${estimate.workers} worker process${estimate.workers === 1 ? '' : 'es'}${source}`,
    ...lines,
  ].join('\n');
}

function resumable(e: CampaignPlanFile['entries'][number]): string {
  const steps = Object.values(e.jobs).flatMap((j) => (j.resumesAt ? [j.resumesAt] : []));
  return steps.length ? ` (${steps.length} resumable, at step${steps.length === 1 ? '' : 's'} ${steps.join(', ')})` : '';
}

/** The jobs that failed the last time they ran (their runs are left out until --retry-failed). */
function failedJobs(e: CampaignPlanFile['entries'][number]): string {
  const failed = Object.values(e.jobs).filter((j) => j.failed !== undefined);
  return failed.length ? `; failed before: ${failed.map((j) => `${j.kind} ${j.label ?? ''} (seed ${j.seed})`.replace('  ', ' ')).join(', ')}` : '';
}
