// A campaign: sweeps run in order over days, a few hours at a time, on machines that may be
// replaced. Its state folder (campaign-state.ts) is updated after every finished job
// (campaign-keeper.ts), so a commit of it at any time keeps the progress, and `l2o campaign run`
// continues from it on another machine.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { engineLabel, InterruptedError, planComparison, UsageError, type Platform } from '@l2o/core';
import { CampaignKeeper, pruneKeptEvaluations, restoreCampaignCache } from './campaign-keeper.js';
import { childPlatformOf, type ComputeJob } from './child.js';
import { estimateSweep, scheduleEnds, type EstimatedJob } from './estimate.js';
import { runSweepLocally, type SweepEvent, type SweepOutcome } from './local-executor.js';
import { jobsNeeded, parseGridAxis, parseSeeds, planSweep, sweepIdOf, type SweepJob, type SweepPlan } from './plan.js';
import { campaignPlanOf, expectedJobSeconds, readCampaignPlan, readStateEvidence, type CampaignPlanFile, type PlannedEntry } from './campaign-state.js';

/** An entry of a campaign file: a sweep (spec relative to the campaign file, scale, seeds, grid axes as `--grid` takes them). */
export interface CampaignEntry {
  spec: string;
  scale: string;
  seeds: number[];
  grid: string[];
}

export interface Campaign {
  /** The file's name without .yaml: its state folder is campaigns/<name>/ by default. */
  name: string;
  file: string;
  entries: CampaignEntry[];
}

/**
 * Reads a campaign file: `entries:`, a list of `{ spec, scale, seeds, grid? }` (seeds as `0..2`, a
 * list or one seed; grid a list of `<optimizer or problem>.<option>=<v1>,<v2>`), run in order.
 */
export function loadCampaign(file: string): Campaign {
  const hint = 'A campaign file is `entries:` followed by items `- { spec: ../paper/fig5.yaml, scale: paper, seeds: 0..2 }` (grid: optional list).';
  if (!existsSync(file) || statSync(file).isDirectory())
    throw new UsageError(`Campaign file ${file} does not exist.`, 'Give the path of a campaign YAML, e.g. experiments/campaigns/paper.yaml.');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length) throw new UsageError(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, hint);
  const value = doc.toJS() as { entries?: unknown } | null;
  if (!value || !Array.isArray(value.entries) || !value.entries.length) throw new UsageError(`${file} lists no entries.`, hint);
  const entries = value.entries.map((raw: unknown, i: number): CampaignEntry => {
    const where = `${file}: entry ${i + 1}`;
    const e = raw as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) throw new UsageError(`${where} is not a mapping.`, hint);
    const unknown = Object.keys(e).find((k) => !['spec', 'scale', 'seeds', 'grid'].includes(k));
    if (unknown) throw new UsageError(`${where} has an unknown key '${unknown}'.`, hint);
    if (typeof e.spec !== 'string' || !e.spec) throw new UsageError(`${where} has no spec.`, hint);
    if (typeof e.scale !== 'string' || !e.scale) throw new UsageError(`${where} has no scale.`, hint);
    if (e.seeds === undefined) throw new UsageError(`${where} has no seeds.`, hint);
    const seedsText = Array.isArray(e.seeds) ? e.seeds.join(',') : typeof e.seeds === 'number' ? String(e.seeds) : typeof e.seeds === 'string' ? e.seeds : null;
    if (seedsText === null) throw new UsageError(`${where}: seeds is not a range, a list or a seed.`, hint);
    const grid = e.grid === undefined ? [] : Array.isArray(e.grid) ? e.grid.map(String) : null;
    if (!grid) throw new UsageError(`${where}: grid is not a list.`, hint);
    for (const axis of grid) parseGridAxis(axis);
    return { spec: e.spec, scale: e.scale, seeds: parseSeeds(seedsText), grid };
  });
  return { name: path.basename(file).replace(/\.ya?ml$/, ''), file: path.resolve(file), entries };
}

/** The campaign's entries planned as sweeps (every spec, id and option checked, before any work). */
export function planCampaign(platform: Platform, campaign: Campaign): PlannedEntry[] {
  const planned = campaign.entries.map((entry) => {
    const spec = path.resolve(path.dirname(campaign.file), entry.spec);
    const plan = planSweep(platform, { spec, scale: entry.scale, seeds: entry.seeds, grid: entry.grid.map(parseGridAxis) });
    return { ...entry, plan, sweepId: sweepIdOf(plan) };
  });
  // A figure's runs are kept in one file, which `l2o results` reads at one scale.
  const scales = new Map<string, string>();
  for (const p of planned) {
    const other = scales.get(p.plan.name);
    if (other && other !== p.scale)
      throw new UsageError(
        `${campaign.file}: ${p.plan.name} is listed at scales ${other} and ${p.scale}; a campaign keeps a figure's runs at one scale.`,
        'Put the other scale in a campaign of its own.',
      );
    scales.set(p.plan.name, p.scale);
  }
  return planned;
}

/**
 * What a campaign runs of an entry next: the comparisons whose runs the state folder lacks
 * (`unwritten`), without those that need a job plan.json records as failed unless `retryFailed`.
 */
export function entryToRun(
  entry: PlannedEntry,
  record: CampaignPlanFile['entries'][number],
  doneRuns: ReadonlySet<string>,
  retryFailed = false,
): { unwritten: SweepPlan; remaining: SweepPlan; leftOut: string[] } {
  const failedBefore = new Set(retryFailed ? [] : Object.entries(record.jobs).flatMap(([key, job]) => (job.failed !== undefined ? [key] : [])));
  const unwritten = remainingPlan(entry.plan, doneRuns);
  const { plan: remaining, leftOut } = withoutFailed(unwritten, failedBefore);
  return { unwritten, remaining, leftOut };
}

/** The part of a sweep still to run: the comparisons whose runs the state folder lacks, and what they need. */
export function remainingPlan(plan: SweepPlan, doneRuns: ReadonlySet<string>): SweepPlan {
  const needed = jobsNeeded(plan, (runId) => doneRuns.has(runId));
  return { ...plan, comparisons: plan.comparisons.filter((c) => !doneRuns.has(c.runId)), jobs: plan.jobs.filter((j) => needed.has(j.key)) };
}

/**
 * The part of a sweep whose jobs have not failed before: the runs that need a job in `failed` (an
 * evaluation, or the training it evaluates) are left out, with what only they need. A failure a
 * job reported (a training that diverged, bad data) comes back the same when it runs again.
 */
export function withoutFailed(plan: SweepPlan, failed: ReadonlySet<string>): { plan: SweepPlan; leftOut: string[] } {
  if (!failed.size) return { plan, leftOut: [] };
  const trainOf = new Map(plan.jobs.flatMap((j) => (j.kind === 'evaluate' && j.train ? [[j.key, j.train] as const] : [])));
  const blocked = (job: Extract<SweepJob, { kind: 'run' }>) =>
    failed.has(job.key) || job.evaluations.some((e) => failed.has(e) || failed.has(trainOf.get(e) ?? ''));
  const leftOut = plan.jobs.flatMap((j) => (j.kind === 'run' && blocked(j) ? [j.key] : []));
  const kept = new Set(plan.jobs.flatMap((j) => (j.kind === 'run' && !leftOut.includes(j.key) ? [j.key, ...j.evaluations] : [])));
  for (const e of [...kept]) if (trainOf.has(e)) kept.add(trainOf.get(e)!);
  return {
    plan: { ...plan, comparisons: plan.comparisons.filter((c) => !leftOut.includes(c.runId)), jobs: plan.jobs.filter((j) => kept.has(j.key)) },
    leftOut,
  };
}

export type CampaignEvent =
  | { kind: 'entry'; index: number; entry: PlannedEntry; plan: SweepPlan; doneRuns: number; leftOut: string[] }
  | { kind: 'restored'; checkpoints: number; resumes: number; evaluations: number }
  /** The entries' remaining jobs, run as one sweep; `entryOf` says which entry a job belongs to (the first that lists it). */
  | { kind: 'jobs'; plan: CampaignSweep['plan']; entryOf: (job: SweepJob) => number }
  | { kind: 'sweep'; index: number; event: SweepEvent };

export interface CampaignOutcome {
  plan: CampaignPlanFile;
  /** Why it stopped before the end: the deadline of `stopAfterMs`. */
  stopped?: 'deadline';
  failed: SweepOutcome['failed'];
  seconds: number;
}

/** A campaign's remaining jobs as one sweep, and which entry each job belongs to. */
export interface CampaignSweep {
  plan: Pick<SweepPlan, 'comparisons' | 'jobs'>;
  entryOf: Map<string, number>;
}

/**
 * The entries' remaining sweeps as one: a job entries share once, where it is first listed (after
 * the jobs it needs, which its entry or an earlier one lists), in the entry that first lists it.
 */
export function campaignSweep(remaining: readonly Pick<SweepPlan, 'comparisons' | 'jobs'>[]): CampaignSweep {
  const entryOf = new Map<string, number>();
  const jobs: SweepJob[] = [];
  remaining.forEach((plan, index) => {
    for (const job of plan.jobs)
      if (!entryOf.has(job.key)) {
        entryOf.set(job.key, index);
        jobs.push(job);
      }
  });
  return { plan: { comparisons: remaining.flatMap((p) => p.comparisons), jobs }, entryOf };
}

/** The state folder as a plan file, from its files and its last plan file. */
export function campaignStatus(campaign: Campaign, planned: readonly PlannedEntry[], stateDir: string): CampaignPlanFile {
  return campaignPlanOf(
    campaign.name,
    planned,
    readStateEvidence(
      stateDir,
      planned.map((p) => p.plan.name),
    ),
    readCampaignPlan(stateDir),
  );
}

/**
 * Runs what remains of a campaign: its state folder's trainings into the cache first, then the
 * entries' remaining comparisons as one local sweep, an earlier entry's jobs first (a kept
 * evaluation is not run again). After every finished job the state folder is updated
 * (CampaignKeeper) and plan.json rewritten; a training's resume state is copied in whenever its
 * job process writes one (each validation, and when stopped). `stopAfterMs`: no job starts after
 * it, and running ones stop at their next safe point.
 */
export async function runCampaign(
  platform: Platform,
  campaign: Campaign,
  planned: readonly PlannedEntry[],
  options: {
    stateDir: string;
    workers: number;
    stopAfterMs?: number;
    signal?: AbortSignal;
    onEvent?: (e: CampaignEvent) => void;
    /** Run again the jobs plan.json records as failed (by default the runs that need them are left out). */
    retryFailed?: boolean;
  },
): Promise<CampaignOutcome> {
  const started = Date.now();
  const { stateDir } = options;
  const emit = options.onEvent ?? (() => {});
  const child = childPlatformOf(platform);
  const cacheDir = child.cacheDir;
  mkdirSync(stateDir, { recursive: true });
  const restored = restoreCampaignCache(stateDir, cacheDir, planned);
  pruneKeptEvaluations(stateDir, planned);
  emit({ kind: 'restored', ...restored, evaluations: readStateEvidence(stateDir, []).evaluations.size });
  const plan = campaignStatus(campaign, planned, stateDir);
  const keeper = new CampaignKeeper(platform, stateDir, cacheDir, planned, plan);
  keeper.save();

  const stop = new AbortController();
  const forward = () => stop.abort(options.signal!.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener('abort', forward, { once: true });
  let deadline = false;
  const timer =
    options.stopAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          deadline = true;
          stop.abort('SIGINT');
        }, options.stopAfterMs);
  const failed: SweepOutcome['failed'] = [];

  // Each entry's remaining sweep, then all of them as one: a worker the earlier entries leave
  // idle (their last long trainings) takes a later entry's jobs.
  const remaining = planned.map((entry, index) => {
    const doneRuns = readStateEvidence(stateDir, [entry.plan.name]).runs.get(entry.plan.name)!;
    const { unwritten, remaining, leftOut } = entryToRun(entry, plan.entries[index]!, doneRuns, options.retryFailed);
    emit({ kind: 'entry', index, entry, plan: remaining, doneRuns: entry.plan.comparisons.length - unwritten.comparisons.length, leftOut });
    return remaining;
  });
  const sweep = campaignSweep(remaining);
  const engine = engineLabel(platform.engine.chosen);
  const entryOf = (job: SweepJob) => sweep.entryOf.get(job.key)!;
  try {
    if (sweep.plan.jobs.length) {
      emit({ kind: 'jobs', plan: sweep.plan, entryOf });
      const onEvent = (e: SweepEvent) => {
        const { job } = e;
        const index = entryOf(job);
        if (e.kind === 'progress' && job.kind === 'train') keeper.resume(job.key);
        else if (e.kind === 'done' && job.kind === 'train') keeper.trained(job.key, e.skipped ? 0 : e.seconds);
        else if (e.kind === 'done' && job.kind === 'evaluate' && e.evaluated && !e.skipped) keeper.evaluated(job, e.evaluated, e.seconds);
        // A run written by an earlier session on this machine (its directory is there) is kept too.
        else if (e.kind === 'done' && job.kind === 'run') keeper.written(job, planned[index]!.plan.name, e.skipped ? 0 : e.seconds);
        else if (e.kind === 'failed' && e.final) keeper.failed(job.key, e.message);
        if (e.kind === 'done') keeper.save();
        emit({ kind: 'sweep', index, event: e });
      };
      try {
        const outcome = await runSweepLocally(platform, sweep.plan, {
          workers: options.workers,
          child,
          onEvent,
          signal: stop.signal,
          keptEvaluation: (job) => keeper.keptEvaluation(job),
          groupOf: entryOf,
          // What the state says each job takes, updated as jobs finish: longest first across sessions.
          expectedSeconds: (job) => expectedJobSeconds(plan.entries[entryOf(job)]!, job, engine),
        });
        failed.push(...outcome.failed);
      } catch (e) {
        if (!(e instanceof InterruptedError)) throw e;
      } finally {
        // A stopped training wrote its resume state as its process ended.
        for (const job of sweep.plan.jobs) if (job.kind === 'train') keeper.resume(job.key);
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
    keeper.save();
  }
  if (options.signal?.aborted) {
    const runs = plan.entries.reduce((n, e) => n + e.runs.done, 0);
    const total = plan.entries.reduce((n, e) => n + e.runs.total, 0);
    throw new InterruptedError(
      options.signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT',
      `Interrupted: the campaign stopped with ${runs} of ${total} runs done; its state folder ${stateDir} is up to date.`,
      'Commit the state folder to keep it, and run the same command again to continue.',
    );
  }
  return { plan, ...(deadline ? { stopped: 'deadline' as const } : {}), failed, seconds: (Date.now() - started) / 1000 };
}

/** The time left of a campaign, in all and per entry: when its last job ends, its entries overlapping as `runCampaign` runs them. */
export interface CampaignEstimate {
  seconds: number;
  workers: number;
  entries: { figure: string; scale: string; seconds: number }[];
  /** The jobs left whose times are what the campaign measured (resume paces, its finished jobs), and those calibrated on this machine (timed now or read from its calibration file). */
  jobs: { measured: number; calibrated: number };
}

/**
 * What the rest of a campaign costs on this machine, as `runCampaign` would run it: the state's
 * trainings put into the cache, each entry's remaining sweep (without the jobs that failed
 * before, unless `retryFailed`) estimated as `l2o sweep --dry-run` does but with the times the
 * state records where it has them (`expectedJobSeconds`), and all of them scheduled as one, an
 * earlier entry's jobs first. Figures share trainings and evaluations
 * (jobs are keyed by content): a job counts once, in the first entry that lists it.
 */
export async function estimateCampaign(
  platform: Platform,
  campaign: Campaign,
  planned: readonly PlannedEntry[],
  options: { stateDir: string; workers: number; retryFailed?: boolean; onCalibrate?: (what: string) => void; signal?: AbortSignal },
): Promise<CampaignEstimate> {
  const { stateDir, workers } = options;
  restoreCampaignCache(stateDir, path.resolve(platform.settings.cacheDir), planned);
  const status = campaignStatus(campaign, planned, stateDir);
  const runs = readStateEvidence(
    stateDir,
    planned.map((p) => p.plan.name),
  ).runs;
  const remaining = planned.map((entry, index) => entryToRun(entry, status.entries[index]!, runs.get(entry.plan.name)!, options.retryFailed).remaining);
  // A dataset that is not here fails the estimate before anything is timed (an entry's comparisons share their datasets).
  for (const plan of remaining) if (plan.comparisons.length) await planComparison(platform, plan.comparisons[0]!.comparison);
  const jobs = new Map<string, EstimatedJob>();
  const engine = engineLabel(platform.engine.chosen);
  const own: string[][] = [];
  for (const [index, plan] of remaining.entries()) {
    // Each job's time as the campaign measured it where it has (as runCampaign ranks them), else calibrated.
    const expectedSeconds = (job: ComputeJob) => expectedJobSeconds(status.entries[index]!, job, engine);
    const perJob = plan.jobs.length
      ? (await estimateSweep(platform, plan, { workers, expectedSeconds, onCalibrate: options.onCalibrate, signal: options.signal })).perJob
      : [];
    own.push(perJob.map((j) => j.key));
    for (const j of perJob) if (!jobs.has(j.key)) jobs.set(j.key, { ...j, group: index });
  }
  const ends = scheduleEnds([...jobs.values()], workers);
  const entries = planned.map((entry, index) => ({
    figure: entry.plan.name,
    scale: entry.scale,
    seconds: Math.max(0, ...own[index]!.map((key) => ends.get(key) ?? 0)),
  }));
  const costly = [...jobs.values()].filter((j) => j.seconds > 0);
  const measured = costly.filter((j) => j.measured).length;
  return { seconds: Math.max(0, ...ends.values()), workers, entries, jobs: { measured, calibrated: costly.length - measured } };
}
