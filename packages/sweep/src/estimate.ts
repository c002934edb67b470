import path from 'node:path';
import {
  cachedCheckpointPath,
  calibratedJobStart,
  calibrateWorkload,
  CALIBRATION_FILE,
  CALIBRATION_METHOD,
  comparisonWorkload,
  engineLabel,
  formatDuration,
  machineLabel,
  partialEvaluationPath,
  partialEvaluationProgress,
  type ComparisonSpec,
  type ComparisonWorkload,
  type CostModel,
  type RepeatedCost,
  type Platform,
  type TrainOptions,
  type WorkloadCosts,
} from '@l2o/core';
import { resumePointOf } from './campaign-state.js';
import { childPlatformOf, runInChild, type ComputeJob } from './child.js';
import { jobsNeeded, runWritten, type SweepPlan } from './plan.js';

/** One job of the estimate: a sweep job, or the reference solve of a test set not yet cached. */
export interface EstimatedJob {
  kind: 'reference' | 'train' | 'evaluate' | 'run';
  key: string;
  label?: string;
  seed: number;
  seconds: number;
  /** Done already (its checkpoint, test set or run is there): it costs nothing. */
  cached: boolean;
  /** The jobs it waits for. */
  after: string[];
  /** Its group: a free worker takes a ready job of the lowest group (a campaign's entries, in order). Default 0. */
  group?: number;
  /** Its time is what earlier runs of it or its like took (`expectedSeconds`), not a calibration's. */
  measured?: boolean;
}

export interface SweepEstimate {
  /** Wall time with `workers` job processes. */
  seconds: number;
  workers: number;
  perJob: EstimatedJob[];
  calibration: {
    file: string;
    engine: string;
    machine: string;
    method: string;
    /** Timings measured now, and timings read from the file (a second estimate of the same work times nothing). */
    calibrated: number;
    reused: number;
    /** Time spent calibrating now. */
    seconds: number;
    /** What starting a job process costs (boot, plugins, the comparison checked), added to each training and evaluation; 0 in one process. */
    jobStartSeconds: number;
  };
}

/** Time of `count` instances in batches of `batchSize`, one unit of work each. */
const batchesMs = (cost: CostModel, count: number, batchSize: number) => Math.ceil(count / batchSize) * cost.fixedMs + count * cost.perInstanceMs;

/** Time of `count` instances in batches of `batchSize`, each batch made once and run `iterations` iterations. */
const rolloutsMs = (cost: RepeatedCost, count: number, batchSize: number, iterations: number) =>
  iterations * batchesMs(cost, count, batchSize) + batchesMs(cost.once, count, batchSize);

/**
 * A training, as the trainer runs it: globalSteps steps, each a batch drawn and made and
 * iterations / unroll segments of `unroll` iterations on it (in micro-batches when the option
 * sets them; automatic ones are taken as the whole batch), and a validation every validateEvery
 * steps and after the last: validationIterations validation iterations over validationSize
 * instances, batch by batch. A training resumed at `fromStep` costs only the steps and
 * validations after it.
 */
export function trainingSeconds(training: TrainOptions, segment: RepeatedCost, validation: RepeatedCost, fromStep = 0): number {
  const micro = training.microBatch > 0 ? Math.min(training.microBatch, training.batchSize) : training.batchSize;
  const from = Math.min(Math.max(0, fromStep), training.globalSteps);
  const stepsMs = (training.globalSteps - from) * rolloutsMs(segment, training.batchSize, micro, training.iterations);
  const validations = Math.ceil(training.globalSteps / training.validateEvery) - Math.floor(from / training.validateEvery);
  const validationMs = validations * rolloutsMs(validation, training.validationSize, Math.min(micro, training.validationSize), training.validationIterations);
  return (stepsMs + validationMs) / 1000;
}

/** An evaluation: count / batchSize batches, each made once and run `iterations` iterations. */
export function evaluationSeconds(test: ComparisonWorkload['test'], iteration: RepeatedCost): number {
  return rolloutsMs(iteration, test.count, test.batchSize, test.iterations) / 1000;
}

/** The reference solve of a test set, batch by batch. */
export function referenceSeconds(test: ComparisonWorkload['test'], reference: CostModel): number {
  return batchesMs(reference, test.count, test.batchSize) / 1000;
}

/** Wall time of jobs on `workers` processes, as `scheduleEnds` schedules them. */
export function scheduleSeconds(jobs: readonly EstimatedJob[], workers: number): number {
  return Math.max(0, ...scheduleEnds(jobs, workers).values());
}

/**
 * When each job ends (seconds from now) on `workers` processes as a list schedule: whenever a
 * process is free it takes, of the jobs whose jobs before them are done, one of the lowest group,
 * the longest of those. Jobs that cost nothing (done already, or written by the sweep's own
 * process) take no process and end when what they wait for ends.
 */
export function scheduleEnds(jobs: readonly EstimatedJob[], workers: number): Map<string, number> {
  const byKey = new Map(jobs.map((j) => [j.key, j]));
  const end = new Map<string, number>();
  const running: { key: string; end: number }[] = [];
  let now = 0;
  const pending = new Set(jobs.map((j) => j.key));
  while (pending.size) {
    // Free jobs end at once, possibly freeing others: repeat until none is left ready.
    let freed = true;
    while (freed) {
      freed = false;
      for (const key of pending) {
        const job = byKey.get(key)!;
        if (job.seconds > 0 || !job.after.every((a) => end.has(a) && end.get(a)! <= now)) continue;
        end.set(key, now);
        pending.delete(key);
        freed = true;
      }
    }
    const ready = [...pending]
      .map((k) => byKey.get(k)!)
      .filter((j) => !running.some((r) => r.key === j.key) && j.after.every((a) => end.has(a) && end.get(a)! <= now))
      .sort((a, b) => (a.group ?? 0) - (b.group ?? 0) || b.seconds - a.seconds);
    for (const job of ready) {
      if (running.length >= workers) break;
      running.push({ key: job.key, end: now + job.seconds });
    }
    if (!running.length) {
      if (pending.size) throw new Error(`jobs wait for jobs not in the plan: ${[...pending].join(', ')}`);
      break;
    }
    // On to the next job to end.
    running.sort((a, b) => a.end - b.end);
    const next = running.shift()!;
    now = next.end;
    end.set(next.key, now);
    pending.delete(next.key);
  }
  return end;
}

/** The options of `estimateSweep`. */
export interface EstimateOptions {
  workers: number;
  retrain?: boolean;
  /** Jobs run in processes of their own, as a sweep runs them (default); false: all in this one, as `l2o experiment run` runs one comparison. */
  jobProcesses?: boolean;
  /**
   * What a job is expected to take as measured before, preferred to the calibrated time (a
   * campaign's state: a training's steps left at its own pace, else the median of the same
   * optimizer's finished jobs of its kind); an evaluation's batches kept in the cache are taken
   * off it. Undefined: the calibrated time.
   */
  expectedSeconds?: (job: ComputeJob) => number | undefined;
  onCalibrate?: (what: string) => void;
  signal?: AbortSignal;
}

/**
 * What a sweep will cost on this machine with `workers` job processes: every job it would run
 * (as the local executor decides: written runs, cached checkpoints and test sets are done),
 * its time from calibrations of this engine and machine at the plan's sizes (timed now, or
 * read from the cache dir), and the wall time of their schedule.
 */
export async function estimateSweep(platform: Platform, plan: SweepPlan, options: EstimateOptions): Promise<SweepEstimate> {
  const left = jobsLeft(platform, plan, options.retrain);
  const timings = await calibrateLeft(platform, plan, left, options);
  const perJob = timedJobs(platform, plan, left, timings, options.expectedSeconds);
  return {
    seconds: scheduleSeconds(perJob, options.workers),
    workers: options.workers,
    perJob,
    calibration: {
      file: path.join(platform.datasetContext.cacheDir, CALIBRATION_FILE),
      engine: engineLabel(platform.engine.chosen),
      machine: machineLabel(),
      method: CALIBRATION_METHOD,
      calibrated: timings.calibrated.size,
      reused: timings.reused.size,
      seconds: Math.round(timings.seconds * 10) / 10,
      jobStartSeconds: timings.jobStartSeconds,
    },
  };
}

/** A plan's workloads, and which of its jobs the local executor would run: what a missing run needs, but a cached training. */
interface JobsLeft {
  workloadOf(comparison: ComparisonSpec): ComparisonWorkload;
  needed: Set<string>;
  costly(job: SweepPlan['jobs'][number]): boolean;
}

function jobsLeft(platform: Platform, plan: SweepPlan, retrain?: boolean): JobsLeft {
  const workloads = new Map<ComparisonSpec, ComparisonWorkload>();
  for (const c of plan.comparisons) workloads.set(c.comparison, comparisonWorkload(platform, c.comparison));
  const workloadOf = (comparison: ComparisonSpec) => workloads.get(comparison) ?? comparisonWorkload(platform, comparison);
  const needed = jobsNeeded(plan, (runId) => runWritten(platform.settings.runsDir, runId));
  const trained = (job: Extract<SweepPlan['jobs'][number], { kind: 'train' }>) =>
    !retrain && workloadOf(job.comparison).optimizers.find((o) => o.label === job.label)?.weights === 'cached';
  const costly = (job: SweepPlan['jobs'][number]) => needed.has(job.key) && job.kind !== 'run' && !(job.kind === 'train' && trained(job));
  return { workloadOf, needed, costly };
}

/** The calibrated costs of each comparison with work left, the start of a job process, and which timings were measured now or reused. */
interface Timings {
  costs: Map<ComparisonSpec, WorkloadCosts>;
  jobStartSeconds: number;
  calibrated: Set<string>;
  reused: Set<string>;
  /** Time spent calibrating now. */
  seconds: number;
}

async function calibrateLeft(platform: Platform, plan: SweepPlan, left: JobsLeft, options: EstimateOptions): Promise<Timings> {
  // Calibrated once per comparison with work left (the cache file makes the others' lookups free).
  const started = performance.now();
  const costs = new Map<ComparisonSpec, WorkloadCosts>();
  const calibrated = new Set<string>();
  const reused = new Set<string>();
  for (const c of plan.comparisons) {
    const jobs = plan.jobs.filter((j) => j.comparison === c.comparison && left.costly(j));
    if (!jobs.length) continue;
    // Only what is left is timed: a training shared with another label (a safeguarded variant's) or done needs no timing.
    const labels = (kind: 'train' | 'evaluate') => new Set(jobs.flatMap((j) => (j.kind === kind ? [j.label] : [])));
    const got = await calibrateWorkload(platform, left.workloadOf(c.comparison), {
      only: { trainings: labels('train'), evaluations: labels('evaluate') },
      onCalibrate: options.onCalibrate,
      signal: options.signal,
    });
    costs.set(c.comparison, got);
    for (const e of got.calibrated) calibrated.add(e.key);
    for (const e of got.reused) if (!calibrated.has(e.key)) reused.add(e.key);
  }
  let jobStartSeconds = 0;
  if (options.jobProcesses !== false && costs.size) {
    const start = await calibratedJobStart(platform, async () => {
      options.onCalibrate?.('the start of a job process');
      // A job process that boots, checks its comparison and stops at once: it has no optimizer ''.
      const probe = { kind: 'evaluate' as const, key: 'calibration', label: '', comparison: plan.comparisons[0]!.comparison };
      const t0 = performance.now();
      await runInChild(probe, childPlatformOf(platform)).catch(() => {});
      return performance.now() - t0;
    });
    jobStartSeconds = start.ms / 1000;
    (start.calibrated ? calibrated : reused).add(start.key);
  }
  return { costs, jobStartSeconds, calibrated, reused, seconds: (performance.now() - started) / 1000 };
}

/** Each job of the plan with its time (0 when it is done or costs nothing) and what it waits for, and each test set's reference solve. */
function timedJobs(platform: Platform, plan: SweepPlan, left: JobsLeft, timings: Timings, expectedSeconds: EstimateOptions['expectedSeconds']): EstimatedJob[] {
  const { cacheDir } = platform.datasetContext;
  const { jobStartSeconds } = timings;
  const perJob: EstimatedJob[] = [];
  const references = new Map<string, EstimatedJob>();
  for (const job of plan.jobs) {
    const workload = left.workloadOf(job.comparison);
    const cost = timings.costs.get(job.comparison);
    const seed = job.comparison.seed;
    if (job.kind === 'run') {
      perJob.push({ kind: 'run', key: job.key, seed, seconds: 0, cached: !left.needed.has(job.key), after: job.evaluations });
      continue;
    }
    const run = left.costly(job) && cost;
    const measured = run ? expectedSeconds?.(job) : undefined;
    const marked = measured !== undefined ? { measured: true } : {};
    if (job.kind === 'train') {
      // A training with a resume state in the cache continues from it.
      const resumes = workload.optimizers.find((o) => o.label === job.label)?.weights === 'resume';
      const fromStep = resumes ? resumePointOf(`${cachedCheckpointPath(cacheDir, job.key)}.resume`).nextStep : 0;
      const seconds = run
        ? jobStartSeconds + (measured ?? trainingSeconds(workload.training, cost.segment[job.label]!, cost.validation[job.label]!, fromStep))
        : 0;
      perJob.push({ kind: 'train', key: job.key, label: job.label, seed, seconds, cached: !run, after: [], ...marked });
      continue;
    }
    // The test set's reference solve, once per test set, before its evaluations.
    const referenceKey = `reference:${path.basename(workload.testSet.dir)}`;
    let reference = references.get(referenceKey);
    if (!reference) {
      reference = { kind: 'reference', key: referenceKey, seed, seconds: 0, cached: true, after: [] };
      references.set(referenceKey, reference);
      perJob.push(reference);
    }
    const test = cost ? { ...workload.test, count: cost.testCount } : workload.test;
    if (run && !workload.testSet.cached && reference.cached) Object.assign(reference, { cached: false, seconds: referenceSeconds(test, cost.reference) });
    // An evaluation whose finished batches the cache keeps continues after them.
    const kept = run ? partialEvaluationProgress(partialEvaluationPath(cacheDir, job.key)) : undefined;
    const share = kept ? Math.max(0, 1 - kept.done / kept.instances) : 1;
    const seconds = run ? jobStartSeconds + share * (measured ?? evaluationSeconds(test, cost.iteration[job.label]!)) : 0;
    perJob.push({
      kind: 'evaluate',
      key: job.key,
      label: job.label,
      seed,
      seconds,
      cached: !run,
      after: [referenceKey, ...(job.train ? [job.train] : [])],
      ...marked,
    });
  }
  return perJob;
}

/** The estimate as lines: its wall time, each costly job, and how the timings were obtained. */
export function estimateText(estimate: SweepEstimate): string {
  const { calibration: c } = estimate;
  const lines = [
    `estimated wall time: ${formatDuration(estimate.seconds)} on ${estimate.workers} worker process${estimate.workers === 1 ? '' : 'es'} (${c.engine}, ${c.machine})`,
  ];
  for (const j of estimate.perJob) {
    if (j.kind === 'run') continue;
    const what = `${j.kind}${j.label ? ` ${j.label}` : ''} seed ${j.seed}`;
    lines.push(`  ${what.padEnd(28)} ${j.cached ? 'done (cached)' : formatDuration(j.seconds)}`);
  }
  lines.push(
    c.calibrated
      ? `calibration: ${c.calibrated} timing${c.calibrated === 1 ? '' : 's'} measured now in ${formatDuration(c.seconds)}${c.reused ? `, ${c.reused} reused` : ''}, kept in ${c.file}`
      : `calibration: ${c.reused} timing${c.reused === 1 ? '' : 's'} reused from ${c.file} (nothing timed now)`,
    `  (${c.method}${c.jobStartSeconds ? `; each job also ${formatDuration(c.jobStartSeconds)} to start its process` : ''}; the machine's load at calibration time is in the numbers)`,
  );
  return lines.join('\n');
}
