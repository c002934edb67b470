// The state folder of a running campaign and this machine's folders, each way: the folder's
// trainings put into the cache before the jobs start, and each job's result written into the
// folder as it finishes (campaign-state.ts reads the folder).
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  cachedCheckpointPath,
  engineLabel,
  evaluatedFromKept,
  readCachedCheckpoint,
  silentLogger,
  trainingLogOf,
  writeFileAtomic,
  type EvaluatedOptimizer,
  type EvaluationCurve,
  type Platform,
} from '@l2o/core';
import { curveFromKeptJson, figureDataJson, keptCurveJson, loadRunDir, readFigureDataFile, validationSeriesOf, type FigureData } from '@l2o/report';
import type { SweepJob } from './plan.js';
import {
  finishedTrainingOf,
  readStateEvidence,
  recordCampaignJob,
  recordCampaignResume,
  resumePointOf,
  stateCheckpoint,
  stateEvaluation,
  stateResume,
  stateRuns,
  stateTrainingLog,
  writeCampaignPlan,
  type CampaignPlanFile,
  type PlannedEntry,
} from './campaign-state.js';

/**
 * Puts the state folder's trainings into the cache: each kept checkpoint (so it is not trained
 * again) and each resume state the cache has no later one of (so the training continues from the
 * step where it stopped). Returns how many of each were copied.
 */
export function restoreCampaignCache(stateDir: string, cacheDir: string, planned: readonly PlannedEntry[]): { checkpoints: number; resumes: number } {
  const evidence = readStateEvidence(stateDir, []);
  const copied = { checkpoints: 0, resumes: 0 };
  const keys = new Set(planned.flatMap((p) => p.plan.jobs.filter((j) => j.kind === 'train').map((j) => j.key)));
  for (const key of keys) {
    const cached = cachedCheckpointPath(cacheDir, key);
    if (evidence.checkpoints.has(key)) {
      if (!readCachedCheckpoint(cached, silentLogger.warn)) {
        copy(stateCheckpoint(stateDir, key), cached);
        copied.checkpoints++;
      }
      if (existsSync(stateTrainingLog(stateDir, key)) && !existsSync(trainingLogOf(cached))) copy(stateTrainingLog(stateDir, key), trainingLogOf(cached));
      continue;
    }
    const step = evidence.resumes.get(key)?.nextStep;
    if (step === undefined || existsSync(cached)) continue;
    const resume = `${cached}.resume`;
    if (existsSync(resume) && resumePointOf(resume).nextStep >= step) continue;
    copy(stateResume(stateDir, key), resume);
    copied.resumes++;
  }
  return copied;
}

/** A byte copy that readers see whole or not at all. */
function copy(from: string, to: string): void {
  writeFileAtomic(to, readFileSync(from));
}

/** What a campaign keeps of a finished evaluation until its runs are written (evaluations/<key>.json). */
interface KeptEvaluation {
  key: string;
  label: string;
  seed: number;
  commit?: string;
  engine?: string;
  seconds: number;
  finishedAt: string;
  weightsSha256?: string;
  curve: EvaluationCurve;
}

/** The evaluations the campaign's runs not yet written need. */
function evaluationsStillNeeded(stateDir: string, planned: readonly PlannedEntry[]): Set<string> {
  const runs = readStateEvidence(
    stateDir,
    planned.map((p) => p.plan.name),
  ).runs;
  const needed = new Set<string>();
  for (const p of planned)
    for (const job of p.plan.jobs) if (job.kind === 'run' && !runs.get(p.plan.name)!.has(job.key)) for (const e of job.evaluations) needed.add(e);
  return needed;
}

/** Deletes the kept evaluations no run still to write needs (their runs hold them now): the folder stays small. */
export function pruneKeptEvaluations(stateDir: string, planned: readonly PlannedEntry[]): void {
  const needed = evaluationsStillNeeded(stateDir, planned);
  for (const key of readStateEvidence(stateDir, []).evaluations) if (!needed.has(key)) rmSync(stateEvaluation(stateDir, key), { force: true });
}

/** A run directory's training logs, as validationSeriesOf reads them. */
function filesOf(runDir: string): Record<string, string> {
  const dir = path.join(runDir, 'training');
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => [`training/${f}`, readFileSync(path.join(dir, f), 'utf8')]),
  );
}

type EvaluateJob = Extract<SweepJob, { kind: 'evaluate' }>;

/**
 * Writes a running campaign's results into its state folder as its jobs finish (atomic writes), and
 * `plan` with them: a training's checkpoint and log copied in and its resume state removed, an
 * evaluation kept, a run added to runs/<figure>.json (and the evaluations no other run needs
 * deleted); a training's resume state copied in whenever its job process writes a newer one.
 */
export class CampaignKeeper {
  private readonly made: { commit?: string; engine: string };
  private readonly resumeSeen = new Map<string, number>();

  constructor(
    private readonly platform: Platform,
    private readonly stateDir: string,
    private readonly cacheDir: string,
    private readonly planned: readonly PlannedEntry[],
    readonly plan: CampaignPlanFile,
  ) {
    this.made = { commit: platform.settings.gitCommit, engine: engineLabel(platform.engine.chosen) };
  }

  /** Writes plan.json. */
  save(): void {
    writeCampaignPlan(this.stateDir, this.plan);
  }

  /** Copies a training's resume state into the state folder when its job process has written a newer one. */
  resume(key: string): void {
    const cached = cachedCheckpointPath(this.cacheDir, key);
    const resume = `${cached}.resume`;
    if (existsSync(cached) || !existsSync(resume)) return;
    const mtime = statSync(resume).mtimeMs;
    if (this.resumeSeen.get(key) === mtime) return;
    this.resumeSeen.set(key, mtime);
    copy(resume, stateResume(this.stateDir, key));
    recordCampaignResume(this.plan, key, resumePointOf(resume));
    this.save();
  }

  /** A finished training (`seconds` 0: found done). */
  trained(key: string, seconds: number): void {
    const { stateDir } = this;
    const cached = cachedCheckpointPath(this.cacheDir, key);
    // Skipped because its runs are written here, its checkpoint may have left the cache: nothing to keep.
    if (!existsSync(cached) && !existsSync(stateCheckpoint(stateDir, key))) return;
    if (!existsSync(stateCheckpoint(stateDir, key))) copy(cached, stateCheckpoint(stateDir, key));
    if (existsSync(trainingLogOf(cached)) && !existsSync(stateTrainingLog(stateDir, key))) copy(trainingLogOf(cached), stateTrainingLog(stateDir, key));
    rmSync(stateResume(stateDir, key), { force: true });
    // The training's time over all its sessions (its log's), not only this process's part.
    const log = finishedTrainingOf(stateTrainingLog(stateDir, key));
    recordCampaignJob(this.plan, key, {
      done: true,
      ...this.made,
      seconds: seconds > 0 ? (log.seconds ?? seconds) : 0,
      ...(seconds > 0 && log.sessions ? { sessions: log.sessions } : {}),
    });
  }

  /** A finished evaluation, kept until its runs are written. */
  evaluated(job: EvaluateJob, result: EvaluatedOptimizer, processSeconds: number): void {
    // The evaluation's time over all its sessions (the curve's: kept batches count), not only this process's part.
    const seconds = result.curve.seconds > 0 ? result.curve.seconds : processSeconds;
    const kept: KeptEvaluation = {
      key: job.key,
      label: job.label,
      seed: job.comparison.seed,
      ...this.made,
      seconds: Math.round(seconds * 10) / 10,
      finishedAt: new Date().toISOString(),
      ...(result.weightsSha256 ? { weightsSha256: result.weightsSha256 } : {}),
      curve: result.curve,
    };
    writeFileAtomic(stateEvaluation(this.stateDir, job.key), keptCurveJson(kept));
    recordCampaignJob(this.plan, job.key, { done: true, ...this.made, seconds });
  }

  /** A kept evaluation as its job's result (null: none, unreadable, or its weights were trained again). */
  keptEvaluation(job: EvaluateJob): EvaluatedOptimizer | null {
    const file = stateEvaluation(this.stateDir, job.key);
    if (!existsSync(file)) return null;
    const { logger } = this.platform;
    try {
      const kept = curveFromKeptJson<KeptEvaluation>(readFileSync(file, 'utf8'));
      if (kept.key !== job.key) throw new Error(`it holds ${kept.key}`);
      const result = evaluatedFromKept(this.platform, job.comparison, job.label, kept);
      if (!result) logger.warn(`${file}: its weights are not those trained now; evaluating again.`);
      return result;
    } catch (e) {
      logger.warn(`${file} cannot be used (${(e as Error).message.split('\n')[0]}); evaluating again.`);
      return null;
    }
  }

  /** A run written (in the runs folder) for `figure`: added to the figure's kept runs. */
  written(job: Extract<SweepJob, { kind: 'run' }>, figure: string, seconds: number): void {
    const dir = path.join(this.platform.settings.runsDir, job.key);
    const run = loadRunDir(dir);
    const file = stateRuns(this.stateDir, figure);
    const kept: FigureData = readFigureDataFile(file, figure) ?? { name: figure, runs: [], validation: [] };
    const validation = validationSeriesOf(run.summary.seed, filesOf(dir));
    const replaced = (v: FigureData['validation'][number]) => validation.some((n) => n.seed === v.seed && n.label === v.label);
    writeFileAtomic(
      file,
      figureDataJson({
        name: figure,
        runs: [...kept.runs.filter((r) => r.id !== run.id), run],
        validation: [...kept.validation.filter((v) => !replaced(v)), ...validation],
      }),
    );
    recordCampaignJob(this.plan, job.key, { done: true, ...this.made, seconds });
    pruneKeptEvaluations(this.stateDir, this.planned);
  }

  /** A job that failed for good. */
  failed(key: string, message: string): void {
    recordCampaignJob(this.plan, key, { done: false, failed: message });
    this.save();
  }
}
