import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Platform } from '../container.js';
import { tf } from '../tf.js';
import { Rng } from '../random/rng.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { Optimizer } from '../contracts/optimizer.js';
import type { Problem } from '../contracts/problem.js';
import type { Dataset, DatasetContext } from '../contracts/dataset.js';
import { disposeState } from '../evaluate/state.js';
import { evaluateOptimizer } from '../evaluate/evaluator.js';
import { solveReference, type ReferenceSolution } from '../evaluate/reference.js';
import { runSegment } from '../train/trainer.js';
import { drawInstances } from '../experiment/test-set.js';
import type { ComparisonWorkload } from '../experiment/run-comparison.js';
import type { PluginRef } from '../experiment/train-model.js';
import { engineLabel } from '../engine/extensions.js';
import { configHash } from '../util/stable-json.js';
import { writeFileAtomic } from '../io/atomic.js';
import { throwIfInterrupted } from '../errors.js';

/**
 * Time of one unit of work on a batch of `b` instances: fixedMs + perInstanceMs · b. The unit is
 * one iteration of a training segment (forward, backward and its share of the Adam step), one
 * evaluation iteration on the test set, one validation iteration (on the training distribution,
 * F on the engine, as the trainer validates), or one reference solve of a batch.
 */
export interface CostModel {
  fixedMs: number;
  perInstanceMs: number;
}

/**
 * Work repeated at every iteration, plus what is done once per batch around the iterations (the
 * `once` line): for an evaluation or validation, the batch made (A, b and L, a power iteration per
 * instance) and the start state; for a training, each global step's batch drawn and made. At the
 * papers' LASSO size the once part of a validation batch costs as much as 20 of lstm's iterations.
 */
export interface RepeatedCost extends CostModel {
  once: CostModel;
}

/** One calibration as kept in the cache file: what was timed, where, and its cost model. */
export interface CalibrationEntry extends CostModel {
  /** Its key in the cache file: a hash of the kind, engine, machine and what was timed. */
  key: string;
  /** 'job': starting a sweep's job process (boot, plugins, the comparison checked), whatever the job. */
  kind: 'segment' | 'validation' | 'iteration' | 'reference' | 'job';
  engine: string;
  machine: string;
  /** The optimizer (or reference solver), problem and dataset timed: the size is the dataset's options. */
  what: { optimizer: PluginRef; problem: PluginRef; dataset: PluginRef };
  /** The batch sizes timed (the cost model is the line through them). */
  batches: number[];
  /** m × n of the instances timed. */
  size: string;
  /** A reference solve's: how many test instances the dataset gave when asked for a few (a fixed set may hold fewer than a test asks for). */
  instances?: number;
  /** A reference solve's: the iterations it was timed over (the cap; see timeReference). */
  iterations?: number;
  /** Segments, validations and evaluations: what is done once per batch besides the iterations (RepeatedCost). */
  once?: CostModel;
  at: string;
}

/**
 * The time to start a job process on this engine and machine: from the cache file, or measured
 * by `measure` (ms) and kept there. `calibrated`: measured now.
 */
export async function calibratedJobStart(platform: Platform, measure: () => Promise<number>): Promise<{ ms: number; calibrated: boolean; key: string }> {
  const file = path.join(platform.datasetContext.cacheDir, CALIBRATION_FILE);
  const engine = engineLabel(platform.engine.chosen);
  const machine = machineLabel();
  const what = { optimizer: { id: 'job-process' }, problem: { id: '' }, dataset: { id: '' } };
  const key = configHash({ kind: 'job', engine, machine, what });
  const known = readCalibrations(file)[key];
  if (known) return { ms: known.fixedMs, calibrated: false, key };
  const ms = await measure();
  const entry: CalibrationEntry = {
    key,
    kind: 'job',
    engine,
    machine,
    what,
    batches: [],
    size: '',
    at: new Date().toISOString(),
    fixedMs: ms,
    perInstanceMs: 0,
  };
  writeCalibrations(file, { [key]: entry });
  return { ms, calibrated: true, key };
}

/** What a workload's jobs cost: per optimizer label its segment, validation and evaluation iterations, and the reference solve. */
export interface WorkloadCosts {
  segment: Record<string, RepeatedCost>;
  validation: Record<string, RepeatedCost>;
  iteration: Record<string, RepeatedCost>;
  reference: CostModel;
  /** The instances the test set will hold: the test's count, or fewer when the dataset is a smaller fixed set (one UCI instance). */
  testCount: number;
  /** Entries timed now, and entries read from the cache file. */
  calibrated: CalibrationEntry[];
  reused: CalibrationEntry[];
}

/** How the calibration measures, for the estimate's output. */
export const CALIBRATION_METHOD =
  "each model: one training segment of at most 5 iterations and a training batch drawn and made, validations (on training instances) and evaluations of 1 and of at most 10 iterations, each baseline's evaluations of 1 and of at most 10 iterations, " +
  "timed (after a warm-up, median of 3) at batch 1 and at the job's batch, or the largest batch that times in about 1.5 s; the difference of the two rollouts is the iterations' time, the rest the batch's own; " +
  'extrapolated linearly in the batch size and the iterations; the reference solve at batch 1 and 4, to its iteration cap (where a test set’s batches stop)';

const CAL_BATCH = 4;
/** Iterations of a timed training segment. */
const CAL_ITERATIONS = 5;
/** Iterations of the longer timed rollout (the shorter has one): their difference is the iterations' time. */
const CAL_ROLLOUT_ITERATIONS = 10;
/** Timings per point: their median, so that one load spike does not decide an estimate. */
const CAL_REPEATS = 3;
/** The larger batch timed takes about this long (or is the job's own batch): a line through 1 and 4 extrapolated to 64 magnified noise. */
const CAL_BUDGET_MS = 1500;
export const CALIBRATION_FILE = 'calibration.json';

/** This machine, as calibrations are kept: CPU model and cores. */
export function machineLabel(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'} × ${cpus.length}`;
}

/** 2: validations and evaluations split into iterations and the batch's own work (`once`). */
const CALIBRATION_FORMAT = 2;

interface CalibrationFile {
  format: typeof CALIBRATION_FORMAT;
  entries: Record<string, CalibrationEntry>;
}

/** The cache file's entries; an unreadable file is an empty cache (it is only timings). */
function readCalibrations(file: string): Record<string, CalibrationEntry> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as CalibrationFile;
    return parsed.format === CALIBRATION_FORMAT && parsed.entries && typeof parsed.entries === 'object' ? parsed.entries : {};
  } catch {
    return {};
  }
}

/** Adds entries to the file, merged with what another process may have written meanwhile. */
function writeCalibrations(file: string, added: Record<string, CalibrationEntry>): void {
  const entries = { ...readCalibrations(file), ...added };
  writeFileAtomic(file, `${JSON.stringify({ format: CALIBRATION_FORMAT, entries } satisfies CalibrationFile, null, 1)}\n`);
}

/** Timings (ms) at batch sizes. */
type Points = [batch: number, ms: number][];

/** The line through (1, t1) and (b, tb), never negative; one point gives a cost proportional to the batch. */
function fit(points: Points): CostModel {
  const [[b1, t1], [b2, t2] = [b1, t1]] = points as [[number, number], [number, number]?];
  if (b2 === b1) return { fixedMs: 0, perInstanceMs: t1 / b1 };
  const perInstanceMs = Math.max(0, (t2 - t1) / (b2 - b1));
  return { fixedMs: Math.max(0, t1 - perInstanceMs * b1), perInstanceMs };
}

const batchesUpTo = (count: number) => [...new Set([1, Math.min(CAL_BATCH, count)])];

async function timeMs(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** The median of CAL_REPEATS timings of `run`. */
async function medianMs(run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < CAL_REPEATS; i++) times.push(await timeMs(run));
  return times.sort((a, b) => a - b)[Math.floor(CAL_REPEATS / 2)]!;
}

/** The larger batch to time: the job's `target`, or as many instances as time in CAL_BUDGET_MS at `oneMs` each (at least CAL_BATCH). */
function largerBatch(target: number, oneMs: number): number {
  return Math.min(target, Math.max(CAL_BATCH, Math.floor(CAL_BUDGET_MS / Math.max(oneMs, 1e-3))));
}

/** `count` instances made of `set`'s, repeated in turn (a timing needs their sizes, not new draws or new F*). */
function tileInstances(set: InstanceSet, count: number): InstanceSet {
  if (count <= set.count) return sliceInstances(set, 0, count);
  const tile = <T extends Float32Array | Float64Array>(values: T, per: number): T => {
    const out = new (values.constructor as new (n: number) => T)(count * per);
    for (let i = 0; i < count; i++) out.set(values.subarray((i % set.count) * per, ((i % set.count) + 1) * per), i * per);
    return out;
  };
  return {
    ...set,
    count,
    A: set.sharedA ? set.A : tile(set.A, set.m * set.n),
    b: tile(set.b, set.m),
    xTrue: set.xTrue && tile(set.xTrue, set.n),
    fStar: set.fStar && tile(set.fStar, 1),
  };
}

/**
 * Rollouts of one and of `iterations` iterations, timed (ms) at the same batches, split into the
 * iterations' time (ms per iteration: their difference over iterations − 1) and the time a batch
 * costs once (the rest of the one-iteration rollout). With one iteration it all counts as iteration.
 */
export function splitRollouts(short: Points, long: Points, iterations: number): { iteration: Points; once: Points } {
  if (iterations <= 1) return { iteration: long, once: long.map(([b]) => [b, 0]) };
  const iteration = long.map(([b, ms], i): [number, number] => [b, Math.max(0, (ms - short[i]![1]) / (iterations - 1))]);
  return { iteration, once: short.map(([b, ms], i): [number, number] => [b, Math.max(0, ms - iteration[i]![1])]) };
}

/**
 * Evaluations of `optimizer` on `set`'s instances repeated to a batch, of one iteration and of
 * at most CAL_ROLLOUT_ITERATIONS, timed after a warm-up at batch 1 and at `target` or the largest
 * batch that fits the budget, and split into iterations and the batch's own work.
 */
async function rolloutPoints(
  problem: Problem,
  optimizer: Optimizer,
  set: InstanceSet,
  iterations: number,
  target: number,
  signal?: AbortSignal,
): Promise<{ iteration: Points; once: Points }> {
  const long = Math.min(CAL_ROLLOUT_ITERATIONS, iterations);
  const rollout = (b: number, k: number) => {
    const part = tileInstances(set, b);
    return async () => void (await evaluateOptimizer(problem, optimizer, part, { iterations: k, batchSize: b, signal }));
  };
  // The first rollout warms the engine's kernels up (not timed).
  await rollout(1, long)();
  const short: Points = [];
  const longer: Points = [];
  const timed = async (batch: number) => {
    throwIfInterrupted(signal);
    if (long > 1) short.push([batch, await medianMs(rollout(batch, 1))]);
    longer.push([batch, await medianMs(rollout(batch, long))]);
  };
  await timed(1);
  const larger = largerBatch(target, longer[0]![1]);
  if (larger > 1) await timed(larger);
  return splitRollouts(short, longer, long);
}

/** One training segment of `unroll` iterations and an Adam step on the first `count` instances, timed. */
async function segmentMs(model: LearnedOptimizer, problem: Problem, set: InstanceSet, count: number, unroll: number, adam: tf.Optimizer): Promise<number> {
  const batch = problem.toBatch(sliceInstances(set, 0, count));
  const parts = [{ batch, weight: 1, state: tf.tidy(() => model.init(problem, batch)) }];
  try {
    return await medianMs(async () => {
      const { grads } = await runSegment(model, problem, parts, 0, unroll, new Rng(0).fork('dropout'));
      adam.applyGradients(model.variables().map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      tf.dispose(grads);
    });
  } finally {
    disposeState(parts[0]!.state);
    problem.disposeBatch(batch);
  }
}

/**
 * A global step's batch of `count` training instances drawn and made (A, b, L and the start
 * state), as the trainer does before the step's segments; timed.
 */
async function stepBatchMs(
  dataset: Dataset,
  options: Record<string, unknown>,
  model: LearnedOptimizer,
  problem: Problem,
  count: number,
  ctx: DatasetContext,
): Promise<number> {
  let draw = 0;
  return medianMs(async () => {
    const set = await dataset.instances({ problem: problem.id, split: 'train', count, rng: new Rng(`calibration:${draw++}`), options }, ctx);
    const batch = problem.toBatch(set);
    disposeState(tf.tidy(() => model.init(problem, batch)));
    problem.disposeBatch(batch);
  });
}

/** A timing a workload needs: its kind, the optimizer's label ('' for the reference solve), what is timed, and its key in the cache file. */
interface WantedTiming {
  kind: 'reference' | 'segment' | 'validation' | 'iteration';
  label: string;
  what: CalibrationEntry['what'];
  key: string;
}

/** The timings of a workload: the reference solve, then per optimizer its training's (segment, validation) and its evaluation's. */
function wantedTimings(
  workload: ComparisonWorkload,
  keyOf: (kind: WantedTiming['kind'], what: CalibrationEntry['what']) => string,
  only?: { trainings: ReadonlySet<string>; evaluations: ReadonlySet<string> },
): WantedTiming[] {
  const ref = workload.reference;
  const referenceWhat = {
    optimizer: { id: ref.id, options: { ...ref.options, maxIterations: ref.maxIterations, tolerance: ref.tolerance, checkEvery: ref.checkEvery } },
    problem: workload.problem,
    dataset: workload.testDataset,
  };
  const wanted: Omit<WantedTiming, 'key'>[] = [
    { kind: 'reference', label: '', what: referenceWhat },
    ...workload.optimizers.flatMap((o) => {
      const optimizer = { id: o.id, options: o.options };
      const training = (['segment', 'validation'] as const).map((kind) => ({
        kind,
        label: o.label,
        what: { optimizer, problem: workload.problem, dataset: workload.trainDataset },
      }));
      const evaluation = {
        kind: 'iteration' as const,
        label: o.label,
        what: { optimizer, problem: o.problem ?? workload.problem, dataset: workload.testDataset },
      };
      return [...(o.learned && (!only || only.trainings.has(o.label)) ? training : []), ...(!only || only.evaluations.has(o.label) ? [evaluation] : [])];
    }),
  ];
  return wanted.map((w) => ({ ...w, key: keyOf(w.kind, w.what) }));
}

/**
 * A few instances of the test set's kind, with their F* from the reference solve, which is timed
 * at batch 1 and at CAL_BATCH (after a warm-up of a few iterations, so that the engine's first
 * kernels are not timed): evaluation iterations are then timed as the evaluator runs them.
 *
 * The solve is timed to the iteration cap, not to the tolerance: a batch of the test set runs
 * until its slowest instance meets the tolerance, and in float32 that is the cap in every test set
 * kept so far (250×500, BSDS500's 64×128, 20×40: every batch ran 5,000 iterations), while the few
 * instances timed here often meet it early (at 250×500 after ~700 iterations: the estimate was 7× short).
 */
async function timeReference(
  platform: Platform,
  workload: ComparisonWorkload,
  problem: Problem,
  signal?: AbortSignal,
): Promise<{ testSet: InstanceSet; points: Points; iterations: number }> {
  const { registry, datasetContext: ctx } = platform;
  const ref = workload.reference;
  const testDataset = registry.get('dataset', workload.testDataset.id).create({});
  const testCount = Math.min(CAL_BATCH, workload.test.count);
  const testSet = await drawInstances(testDataset, problem, { dataset: workload.testDataset as TestDatasetRef, split: 'test', count: testCount, seed: 0 }, ctx);
  const reference = registry.get('optimizer', ref.id).create({ ...ref.options });
  await solveReference(problem, reference, sliceInstances(testSet, 0, 1), { ...ref, maxIterations: 2, batchSize: 1, signal });
  const points: Points = [];
  let iterations = 0;
  for (const b of batchesUpTo(testCount)) {
    throwIfInterrupted(signal);
    const part = sliceInstances(testSet, 0, b);
    let solved: ReferenceSolution | undefined;
    const ms = await timeMs(async () => {
      solved = await solveReference(problem, reference, part, { ...ref, tolerance: 0, batchSize: b, signal });
    });
    points.push([b, ms]);
    iterations = Math.max(...solved!.iterations);
    if (b === testCount) testSet.fStar = solved!.fStar;
  }
  return { testSet, points, iterations };
}

/**
 * A training segment's iterations (at batch 1 and a larger batch up to `microTarget`, after a
 * warm-up) and a global step's batch drawn and made, timed on `drawn` training instances.
 */
async function timeSegments(
  platform: Platform,
  workload: ComparisonWorkload,
  model: LearnedOptimizer,
  problem: Problem,
  drawn: InstanceSet,
  microTarget: number,
  signal?: AbortSignal,
): Promise<{ iteration: Points; once: Points }> {
  const trainDataset = platform.registry.get('dataset', workload.trainDataset.id).create({});
  const unroll = Math.min(CAL_ITERATIONS, workload.training.unroll);
  const adam = tf.train.adam(workload.training.learningRate);
  try {
    const segment = (b: number) => segmentMs(model, problem, tileInstances(drawn, b), b, unroll, adam);
    await segment(1); // warm-up, not kept
    const one = await segment(1);
    const iteration: Points = [[1, one / unroll]];
    const larger = largerBatch(microTarget, one);
    if (larger > 1) {
      throwIfInterrupted(signal);
      iteration.push([larger, (await segment(larger)) / unroll]);
    }
    const stepBatch = (b: number) => stepBatchMs(trainDataset, workload.trainDataset.options ?? {}, model, problem, b, platform.datasetContext);
    const once: Points = [[1, await stepBatch(1)]];
    if (larger > 1) once.push([larger, await stepBatch(larger)]);
    return { iteration, once };
  } finally {
    adam.dispose();
  }
}

/** The cost models of the wanted timings, from those timed now (`added`) or kept (`known`). */
function costsOf(
  workload: ComparisonWorkload,
  wanted: readonly WantedTiming[],
  added: Record<string, CalibrationEntry>,
  known: Record<string, CalibrationEntry>,
): WorkloadCosts {
  const costs: WorkloadCosts = {
    segment: {},
    validation: {},
    iteration: {},
    reference: { fixedMs: 0, perInstanceMs: 0 },
    testCount: workload.test.count,
    calibrated: Object.values(added),
    reused: [],
  };
  for (const w of wanted) {
    const e = added[w.key] ?? known[w.key]!;
    if (!added[w.key]) costs.reused.push(e);
    const model = { fixedMs: e.fixedMs, perInstanceMs: e.perInstanceMs };
    if (w.kind === 'reference') {
      costs.reference = model;
      // Fewer than the few asked for: the dataset holds only these.
      if (e.instances !== undefined && e.instances < Math.min(CAL_BATCH, workload.test.count)) costs.testCount = e.instances;
    } else costs[w.kind][w.label] = { ...model, once: e.once ?? { fixedMs: 0, perInstanceMs: 0 } };
  }
  return costs;
}

/**
 * Times what a comparison's jobs do, at its sizes, on this engine and machine, and keeps each
 * timing in `<cache dir>/calibration.json`: a timing already there (same engine, machine,
 * optimizer, problem and dataset options) is reused, so estimating the same work again costs
 * nothing. `onCalibrate` is told before anything is timed. `only`: the labels whose training and
 * whose evaluation are left to run (the others' timings are not needed: a safeguarded variant
 * shares its plain model's training, a cached checkpoint trains nothing); all by default.
 */
export async function calibrateWorkload(
  platform: Platform,
  workload: ComparisonWorkload,
  options: {
    only?: { trainings: ReadonlySet<string>; evaluations: ReadonlySet<string> };
    onCalibrate?: (what: string) => void;
    signal?: AbortSignal;
  } = {},
): Promise<WorkloadCosts> {
  const { registry, datasetContext: ctx } = platform;
  const { signal } = options;
  const file = path.join(ctx.cacheDir, CALIBRATION_FILE);
  const known = readCalibrations(file);
  const engine = engineLabel(platform.engine.chosen);
  const machine = machineLabel();
  const wanted = wantedTimings(workload, (kind, what) => configHash({ kind, engine, machine, what }), options.only);
  // A reference entry from before `instances` was kept, or timed to the tolerance (no `iterations`), is timed again.
  const missing = wanted.filter(
    (w) => !known[w.key] || (w.kind === 'reference' && (known[w.key]!.instances === undefined || known[w.key]!.iterations === undefined)),
  );
  const added: Record<string, CalibrationEntry> = {};
  if (!missing.length) return costsOf(workload, wanted, added, known);

  const labels = [...new Set(missing.flatMap((w) => (w.label ? [w.label] : [])))];
  options.onCalibrate?.(`${missing.length} timing${missing.length === 1 ? '' : 's'} of ${labels.join(', ') || 'the reference solver'} at ${sizeOf(workload)}`);
  const problemOf = (p: PluginRef): Problem => registry.get('problem', p.id).create(p.options ?? {});
  const problem = problemOf(workload.problem);
  const at = new Date().toISOString();
  const entry = (w: WantedTiming, set: InstanceSet, points: Points, once?: Points): CalibrationEntry => ({
    key: w.key,
    kind: w.kind,
    engine,
    machine,
    what: w.what,
    batches: points.map(([b]) => b),
    size: `${set.m}×${set.n}`,
    at,
    ...fit(points),
    ...(once ? { once: fit(once) } : {}),
  });
  const { testSet, points: referencePoints, iterations } = await timeReference(platform, workload, problem, signal);
  const referenceWanted = wanted[0]!;
  if (missing.includes(referenceWanted))
    added[referenceWanted.key] = { ...entry(referenceWanted, testSet, referencePoints), instances: testSet.count, iterations };

  // A few training instances, drawn once: segments and validations run on them.
  let drawnTrain: InstanceSet | undefined;
  const trainInstances = async (): Promise<InstanceSet> =>
    (drawnTrain ??= await drawInstances(
      registry.get('dataset', workload.trainDataset.id).create({}),
      problem,
      { dataset: workload.trainDataset as TestDatasetRef, split: 'train', count: Math.min(CAL_BATCH, workload.training.batchSize), seed: 0 },
      ctx,
    ));
  // A segment, or a validation pass, on a micro-batch at most: the trainer splits larger batches into passes of this size.
  const microTarget =
    workload.training.microBatch && workload.training.microBatch > 0
      ? Math.min(workload.training.microBatch, workload.training.batchSize)
      : workload.training.batchSize;

  for (const w of missing) {
    if (w.kind === 'reference') continue;
    throwIfInterrupted(signal);
    const o = workload.optimizers.find((x) => x.label === w.label)!;
    const created = registry.getAny(['optimizer', 'model'], o.id).create({ ...o.options });
    try {
      if (w.kind === 'iteration') {
        const { iteration, once } = await rolloutPoints(
          o.problem ? problemOf(o.problem) : problem,
          created,
          testSet,
          workload.test.iterations,
          workload.test.batchSize,
          signal,
        );
        added[w.key] = entry(w, testSet, iteration, once);
      } else if (w.kind === 'validation') {
        // Drawn instances have no F*: F is computed on the engine, as in the trainer's validation.
        const drawn = await trainInstances();
        const batch = Math.min(microTarget, workload.training.validationSize);
        const { iteration, once } = await rolloutPoints(problem, created, drawn, workload.training.validationIterations, batch, signal);
        added[w.key] = entry(w, drawn, iteration, once);
      } else {
        const drawn = await trainInstances();
        const { iteration, once } = await timeSegments(platform, workload, created as LearnedOptimizer, problem, drawn, microTarget, signal);
        added[w.key] = entry(w, drawn, iteration, once);
      }
    } finally {
      (created as Partial<LearnedOptimizer>).dispose?.();
    }
  }
  writeCalibrations(file, added);
  return costsOf(workload, wanted, added, known);
}

type TestDatasetRef = { id: string; options: Record<string, unknown> };

/** The workload's size as the user reads it: the test dataset's options. */
function sizeOf(workload: ComparisonWorkload): string {
  const options = workload.testDataset.options ?? {};
  const text = Object.entries(options)
    .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return `${workload.testDataset.id}${text ? ` (${text})` : ''}`;
}
