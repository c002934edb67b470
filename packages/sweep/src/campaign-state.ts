// A campaign's state folder, committed in the repository as the campaign goes (campaigns/<name>/):
//   plan.json                          what is done and what remains, per entry and job, with who made it
//   checkpoints/<training key>.json    a finished training's best checkpoint (and .training.json, its log)
//   checkpoints/<training key>.resume.json   an unfinished training's latest resume state (deleted when it is done)
//   evaluations/<evaluation key>.json  a finished evaluation whose run is not written yet (deleted once no
//                                      remaining run needs it): its summary and curve in the kept form
//   runs/<figure>.json                 the finished runs, in the kept-data format of `l2o results`
// The files are the truth (a training is done when its checkpoint is there, an evaluation when its
// file or its runs are, a run when its kept data holds it); plan.json is the bookkeeping a person reads, rebuilt from them and from its last version.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { L2oError, partialEvaluationPath, partialEvaluationProgress, writeFileAtomic, type TrainingSession } from '@l2o/core';
import { readFigureDataFile } from '@l2o/report';
import type { SweepPlan } from './plan.js';

export const CAMPAIGN_PLAN_FILE = 'plan.json';
const PLAN_FORMAT = 1;

/** A job of the plan file: a training (its checkpoint is kept), an evaluation (kept until its runs are) or a run (its kept data is). */
export interface CampaignJobRecord {
  kind: 'train' | 'evaluate' | 'run';
  label?: string;
  seed: number;
  done: boolean;
  /** The commit and engine that made it, when (ISO time) and in how long (seconds, a training's or evaluation's over all its sessions; 0 when it was found done, e.g. cached). */
  commit?: string;
  engine?: string;
  seconds?: number;
  finishedAt?: string;
  /** A training's resume state is kept: the global step it continues from. */
  resumesAt?: number;
  /** With resumesAt: the training's global steps in all, and the time its steps and validations have taken so far, over all its sessions. */
  totalSteps?: number;
  secondsSoFar?: number;
  /**
   * A training's sessions (global steps, time, commit and engine of each process that ran it), as
   * its resume state or training log records them; none for one made before they were recorded.
   */
  sessions?: TrainingSession[];
  /** Why it failed, the last time it ran. */
  failed?: string;
}

export interface CampaignPlanEntry {
  spec: string;
  scale: string;
  seeds: number[];
  grid: string[];
  figure: string;
  sweep: string;
  status: 'done' | 'remaining';
  runs: { done: number; total: number };
  trainings: { done: number; total: number };
  evaluations: { done: number; total: number };
  jobs: Record<string, CampaignJobRecord>;
}

export interface CampaignPlanFile {
  format: number;
  campaign: string;
  updatedAt: string;
  entries: CampaignPlanEntry[];
}

/** An entry as the campaign file gives it, with its sweep planned. */
export interface PlannedEntry {
  spec: string;
  scale: string;
  seeds: number[];
  grid: string[];
  plan: SweepPlan;
  sweepId: string;
}

/** What the state folder holds: kept checkpoints, resume states (key → where each stands), evaluations and runs (ids per figure). */
export interface StateEvidence {
  checkpoints: Set<string>;
  resumes: Map<string, ResumePoint>;
  evaluations: Set<string>;
  runs: Map<string, Set<string>>;
  /** A finished training's time over all its sessions and the sessions, from its kept training log (trainings made before sessions were recorded have none). */
  trained?: Map<string, ReturnType<typeof finishedTrainingOf>>;
}

/** An unfinished evaluation's batches kept in the cache: instances done of all, and the seconds they took. */
export interface EvaluationUnderWay {
  done: number;
  instances: number;
  seconds: number;
}

/**
 * The campaign's unfinished evaluations that an interrupted job process left batches of in
 * `cacheDir` (the next run continues after them, with the same weights, engine and commit), by job
 * key. They are not in the state folder: a new machine evaluates them from the start.
 */
export function evaluationsUnderWay(plan: CampaignPlanFile, cacheDir: string): Map<string, EvaluationUnderWay> {
  const found = new Map<string, EvaluationUnderWay>();
  for (const e of plan.entries)
    for (const [key, job] of Object.entries(e.jobs)) {
      if (job.kind !== 'evaluate' || job.done || found.has(key)) continue;
      const progress = partialEvaluationProgress(partialEvaluationPath(cacheDir, key));
      if (progress) found.set(key, progress);
    }
  return found;
}

export const stateCheckpoint = (stateDir: string, key: string) => path.join(stateDir, 'checkpoints', `${key}.json`);
export const stateTrainingLog = (stateDir: string, key: string) => path.join(stateDir, 'checkpoints', `${key}.training.json`);
export const stateResume = (stateDir: string, key: string) => path.join(stateDir, 'checkpoints', `${key}.resume.json`);
export const stateRuns = (stateDir: string, figure: string) => path.join(stateDir, 'runs', `${figure}.json`);
export const stateEvaluation = (stateDir: string, key: string) => path.join(stateDir, 'evaluations', `${key}.json`);

/** The plan file of a state folder, or null when there is none yet. */
export function readCampaignPlan(stateDir: string): CampaignPlanFile | null {
  const file = path.join(stateDir, CAMPAIGN_PLAN_FILE);
  if (!existsSync(file)) return null;
  let parsed: CampaignPlanFile;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as CampaignPlanFile;
  } catch (e) {
    throw new L2oError(
      `${file} is not valid JSON (${(e as Error).message}).`,
      'Restore it from git (git checkout -- <file>); it is rebuilt from the folder when deleted.',
    );
  }
  if (parsed.format !== PLAN_FORMAT || !Array.isArray(parsed.entries))
    throw new L2oError(`${file} is not a campaign plan of format ${PLAN_FORMAT}.`, 'Restore it from git, or delete it: it is rebuilt from the folder.');
  return parsed;
}

export function writeCampaignPlan(stateDir: string, plan: CampaignPlanFile): void {
  writeFileAtomic(path.join(stateDir, CAMPAIGN_PLAN_FILE), `${JSON.stringify(plan, null, 1)}\n`);
}

/** What the state folder holds (read from its files, not from plan.json). */
export function readStateEvidence(stateDir: string, figures: readonly string[]): StateEvidence {
  const checkpoints = new Set<string>();
  const resumes = new Map<string, ResumePoint>();
  const dir = path.join(stateDir, 'checkpoints');
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const resume = /^(.+)\.resume\.json$/.exec(f);
    if (resume) {
      resumes.set(resume[1]!, resumePointOf(path.join(dir, f)));
      continue;
    }
    if (f.endsWith('.training.json') || !f.endsWith('.json')) continue;
    checkpoints.add(f.slice(0, -'.json'.length));
  }
  const trained = new Map<string, ReturnType<typeof finishedTrainingOf>>();
  for (const key of checkpoints) {
    const log = stateTrainingLog(stateDir, key);
    if (existsSync(log)) trained.set(key, finishedTrainingOf(log));
  }
  const evaluations = new Set<string>();
  const evaluationsDir = path.join(stateDir, 'evaluations');
  for (const f of existsSync(evaluationsDir) ? readdirSync(evaluationsDir) : []) if (f.endsWith('.json')) evaluations.add(f.slice(0, -'.json'.length));
  const runs = new Map<string, Set<string>>();
  for (const figure of new Set(figures)) runs.set(figure, new Set(readFigureDataFile(stateRuns(stateDir, figure), figure)?.runs.map((r) => r.id) ?? []));
  return { checkpoints, resumes, evaluations, runs, trained };
}

/** Where a training's resume state stands: the global step it continues from, of how many, and the time its steps and validations have taken so far. */
export interface ResumePoint {
  nextStep: number;
  totalSteps?: number;
  seconds?: number;
  sessions?: TrainingSession[];
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const tenths = (v: number) => Math.round(v * 10) / 10;

/** The readable sessions of a resume state or training log (undefined when there are none). */
function sessionsIn(value: unknown): TrainingSession[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const sessions = (value as Record<string, unknown>[]).flatMap((v): TrainingSession[] => {
    const [fromStep, toStep, seconds] = [finite(v?.fromStep), finite(v?.toStep), finite(v?.seconds)];
    if (fromStep === undefined || toStep === undefined || seconds === undefined) return [];
    const text = (k: string) => (typeof v[k] === 'string' ? { [k]: v[k] } : {});
    return [{ fromStep, toStep, seconds: tenths(seconds), ...text('commit'), ...text('engine') }];
  });
  return sessions.length ? sessions : undefined;
}

/** A resume state's point (step 0 when unreadable: it is then a fresh start). */
export function resumePointOf(file: string): ResumePoint {
  let training: { nextStep?: unknown; seconds?: unknown; options?: { globalSteps?: unknown }; sessions?: unknown } | undefined;
  try {
    training = (JSON.parse(readFileSync(file, 'utf8')) as { training?: typeof training }).training;
  } catch {
    return { nextStep: 0 };
  }
  const totalSteps = finite(training?.options?.globalSteps);
  const seconds = finite(training?.seconds);
  const sessions = sessionsIn(training?.sessions);
  return {
    nextStep: finite(training?.nextStep) ?? 0,
    ...(totalSteps !== undefined ? { totalSteps } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(sessions ? { sessions } : {}),
  };
}

/** A finished training's time over all its sessions, and the sessions, from its training log (nothing when unreadable). */
export function finishedTrainingOf(file: string): { seconds?: number; sessions?: TrainingSession[] } {
  let log: { seconds?: unknown; sessions?: unknown };
  try {
    log = JSON.parse(readFileSync(file, 'utf8')) as typeof log;
  } catch {
    return {};
  }
  const [seconds, sessions] = [finite(log.seconds), sessionsIn(log.sessions)];
  return { ...(seconds !== undefined ? { seconds } : {}), ...(sessions ? { sessions } : {}) };
}

/**
 * The plan file for `entries` as the folder now holds them: each training and run job done or
 * remaining by the files, with what the previous plan file said of it (commit, engine, timings,
 * a failure) kept. A job known under another entry of the previous file (jobs are keyed by
 * content) keeps its record too.
 */
export function campaignPlanOf(
  campaign: string,
  entries: readonly PlannedEntry[],
  evidence: StateEvidence,
  previous: CampaignPlanFile | null,
): CampaignPlanFile {
  const known = new Map<string, CampaignJobRecord>();
  for (const e of previous?.entries ?? []) for (const [key, record] of Object.entries(e.jobs)) if (!known.has(key) || record.done) known.set(key, record);
  return {
    format: PLAN_FORMAT,
    campaign,
    updatedAt: new Date().toISOString(),
    entries: entries.map((entry) => {
      const jobs: Record<string, CampaignJobRecord> = {};
      const figureRuns = evidence.runs.get(entry.plan.name) ?? new Set<string>();
      // An evaluation is done when it is kept, or when every run of this entry that needs it is.
      const runsOf = new Map<string, string[]>();
      for (const job of entry.plan.jobs) if (job.kind === 'run') for (const e of job.evaluations) runsOf.set(e, [...(runsOf.get(e) ?? []), job.key]);
      for (const job of entry.plan.jobs) {
        const done =
          job.kind === 'train'
            ? evidence.checkpoints.has(job.key)
            : job.kind === 'evaluate'
              ? evidence.evaluations.has(job.key) || (runsOf.get(job.key) ?? []).every((r) => figureRuns.has(r))
              : figureRuns.has(job.key);
        const before = known.get(job.key);
        const record: CampaignJobRecord = {
          ...(before?.done === done ? before : {}),
          kind: job.kind,
          ...(job.kind !== 'run' ? { label: job.label } : {}),
          seed: job.comparison.seed,
          done,
        };
        if (done) delete record.failed;
        else if (before?.failed) record.failed = before.failed;
        // A training under way stands where its resume state does; a finished one keeps the sessions that made it (its log's).
        if (job.kind === 'train' && !done) setResume(record, evidence.resumes.get(job.key));
        const made = job.kind === 'train' && done ? evidence.trained?.get(job.key) : undefined;
        if (made?.sessions && !record.sessions) record.sessions = made.sessions;
        // And took what its log says, over all its sessions (older keepers recorded only the last session's time).
        if (made?.seconds !== undefined) record.seconds = made.seconds;
        jobs[job.key] = record;
      }
      return {
        spec: entry.spec,
        scale: entry.scale,
        seeds: entry.seeds,
        grid: entry.grid,
        figure: entry.plan.name,
        sweep: entry.sweepId,
        ...countsOf(jobs),
        jobs,
      };
    }),
  };
}

/** An entry's status and its counts of runs, trainings and evaluations done, from its jobs. */
function countsOf(jobs: Record<string, CampaignJobRecord>): Pick<CampaignPlanEntry, 'status' | 'runs' | 'trainings' | 'evaluations'> {
  const count = (kind: CampaignJobRecord['kind']) => {
    const of = Object.values(jobs).filter((j) => j.kind === kind);
    return { done: of.filter((j) => j.done).length, total: of.length };
  };
  const runs = count('run');
  return { status: runs.done === runs.total ? 'done' : 'remaining', runs, trainings: count('train'), evaluations: count('evaluate') };
}

/** Marks a job of the plan file done (or failed), with who made it; the entry's counts follow. */
export function recordCampaignJob(
  plan: CampaignPlanFile,
  key: string,
  outcome: { done: true; commit?: string; engine?: string; seconds: number; at?: Date; sessions?: TrainingSession[] } | { done: false; failed: string },
): void {
  for (const entry of plan.entries) {
    const job = entry.jobs[key];
    if (!job) continue;
    if (outcome.done) {
      // Found done (cached) after it was made: what made it stays recorded.
      const keep = job.done && outcome.seconds === 0;
      entry.jobs[key] = keep
        ? job
        : {
            kind: job.kind,
            ...(job.label ? { label: job.label } : {}),
            seed: job.seed,
            done: true,
            ...(outcome.commit ? { commit: outcome.commit } : {}),
            ...(outcome.engine ? { engine: outcome.engine } : {}),
            seconds: tenths(outcome.seconds),
            finishedAt: (outcome.at ?? new Date()).toISOString(),
            ...(outcome.sessions ? { sessions: outcome.sessions } : {}),
          };
    } else {
      entry.jobs[key] = { ...job, done: false, failed: outcome.failed };
    }
    Object.assign(entry, countsOf(entry.jobs));
  }
  plan.updatedAt = new Date().toISOString();
}

/** Notes a training's kept resume state in the plan file. */
export function recordCampaignResume(plan: CampaignPlanFile, key: string, point: ResumePoint): void {
  for (const entry of plan.entries) {
    const job = entry.jobs[key];
    if (job && !job.done) setResume(job, point);
  }
}

/** A job record's resume fields from `point` (none without one, or at step 0). */
function setResume(record: CampaignJobRecord, point: ResumePoint | undefined): void {
  delete record.resumesAt;
  delete record.totalSteps;
  delete record.secondsSoFar;
  delete record.sessions;
  if (!point?.nextStep) return;
  record.resumesAt = point.nextStep;
  if (point.totalSteps !== undefined) record.totalSteps = point.totalSteps;
  if (point.seconds !== undefined) record.secondsSoFar = tenths(point.seconds);
  if (point.sessions) record.sessions = point.sessions;
}

/** A resumable training's time left at its own pace so far (its seconds per step over all its sessions); undefined without one. */
export function secondsLeftAtPace(job: CampaignJobRecord): number | undefined {
  if (!job.resumesAt || !job.totalSteps || job.secondsSoFar === undefined) return undefined;
  return (job.secondsSoFar / job.resumesAt) * (job.totalSteps - job.resumesAt);
}

/**
 * What a campaign's state says a job of `entry` will take on `engine`: a resumable training its
 * steps left at its own pace; another job the median time of the finished jobs of its kind and
 * label in the entry (an optimizer's seeds take about as long; a job found done took 0 and does
 * not count); undefined when none has finished. Times another engine made (a GPU's, a CPU's) say
 * nothing of this one's and are left out; a record that names no engine is taken.
 */
export function expectedJobSeconds(
  entry: CampaignPlanEntry,
  job: { key: string; kind: CampaignJobRecord['kind']; label?: string },
  engine: string,
): number | undefined {
  const here = (madeOn: string | undefined) => madeOn === undefined || madeOn === engine;
  const own = entry.jobs[job.key];
  // A training under way counts where its last session ran (at its pace over all its sessions).
  const left = own && !own.done && here(own.sessions?.at(-1)?.engine ?? own.engine) ? secondsLeftAtPace(own) : undefined;
  if (left !== undefined) return left;
  const times = Object.values(entry.jobs)
    .flatMap((j) => (j.done && j.kind === job.kind && j.label === job.label && j.seconds && here(j.engine) ? [j.seconds] : []))
    .sort((a, b) => a - b);
  if (!times.length) return undefined;
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}
