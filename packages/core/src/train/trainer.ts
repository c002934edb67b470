import { tf } from '../tf.js';
import { L2oError } from '../errors.js';
import type { LearnedOptimizer, SerializedWeights } from '../contracts/learned-optimizer.js';
import type { Problem } from '../contracts/problem.js';
import { sliceInstances, type InstanceSet } from '../contracts/instances.js';
import { Rng } from '../random/rng.js';
import { evaluateOptimizer } from '../evaluate/evaluator.js';
import { disposeState } from '../evaluate/state.js';
import { checkpointOf, saveCheckpoint, type Checkpoint, type TrainingSession, type TrainingState, type ValidationPoint } from './checkpoint.js';
import { runParallelSegment, startSegmentPool, type SegmentWorkerPool, type WorkerPlatform } from './parallel/worker-pool.js';
import { yieldToEventLoop } from '../util/yield.js';
import { checkTrainOptions, DEFAULT_TRAIN_OPTIONS, type TrainOptions } from './training-options.js';
import { chooseMicroBatch, type MemoryBudget } from './micro-batch.js';
import { runSegment, type SegmentPart } from './segment.js';

// Declared beside their users to keep the modules acyclic; exported here too, as before.
export type { TrainOptions } from './training-options.js';
export { runSegment, type SegmentPart } from './segment.js';

export interface TrainProgress {
  step: number;
  totalSteps: number;
  segment: number;
  segments: number;
  loss: number;
  validation?: number;
  bestValidation?: number;
  elapsedSeconds: number;
  etaSeconds: number;
  /**
   * 'micro-batch': the micro-batch chosen for the engine's memory (in `message`), before the first
   * step; 'rollback': a validation spiked and the best state was restored (in `message`).
   */
  event: 'segment' | 'validation' | 'skipped' | 'micro-batch' | 'rollback';
  message?: string;
}

export interface TrainInputs {
  problem: Problem;
  model: LearnedOptimizer;
  /** Fresh training instances for a global step (the trainer gives the step's own generator). */
  trainInstances: (step: number, rng: Rng) => Promise<InstanceSet>;
  validationSet: InstanceSet;
  /** Where a resumable checkpoint is written at every validation and when training is interrupted. */
  resumeFile?: string;
  /** Continue from this checkpoint's training state. */
  resume?: Checkpoint;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  meta?: Record<string, unknown>;
  /**
   * What one engine instance may hold for a micro-batch's tape when the micro-batch option is 0
   * (automatic); default: the engine's (see memoryBudget); null: the whole batch.
   */
  memoryBudget?: MemoryBudget | null;
  /** Engine and plugin discovery for workers (options.workers > 1); default: the current engine and default plugin discovery. */
  workerPlatform?: WorkerPlatform;
  /** Who runs this session (provenance of a training resumed by other commits): recorded in `sessions`. */
  madeBy?: { commit?: string; engine?: string };
}

export interface TrainResult {
  completedSteps: number;
  interrupted: boolean;
  /** Global steps counted from 1: the step after which the weights were validated. */
  best: { step: number; loss: number; weights: SerializedWeights } | null;
  history: { step: number; loss: number }[];
  validation: ValidationPoint[];
  seconds: number;
  /** Instances per forward/backward pass it ran with (the option, or the automatic choice). */
  microBatch: number;
  /** Times a validation spike rolled training back to the best state (with the rollbackFactor option). */
  rollbacks?: number;
  /** The sessions that made it, this one last (see TrainingSession). */
  sessions: TrainingSession[];
}

/**
 * The learning rate of a global step (counted from 0): the base rate, or with 'cosine' the base
 * rate · (1 + cos(π · step / globalSteps)) / 2, from the base rate at step 0 down to 0 at the end.
 */
export function scheduledLearningRate(base: number, step: number, globalSteps: number, schedule: TrainOptions['lrSchedule']): number {
  if (schedule !== 'cosine') return base;
  return (base * (1 + Math.cos((Math.PI * step) / globalSteps))) / 2;
}

/**
 * Gradients scaled to the global L2 norm `maxNorm` when their norm `norm` (over all of them)
 * is larger; otherwise the same map. Scaled gradients replace (and dispose) the given ones.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number, norm: number): tf.NamedTensorMap {
  if (!(maxNorm > 0) || norm <= maxNorm) return grads;
  const factor = maxNorm / norm;
  const clipped = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, factor)])));
  tf.dispose(grads);
  return clipped;
}

/** Adam whose learning rate can be changed after a skipped step (tfjs keeps it protected). */
type AdjustableAdam = tf.AdamOptimizer & { learningRate: number };

/**
 * Meta-trains a learned optimizer by truncated back-propagation through time: each global step
 * draws a fresh batch, runs K iterations cut into segments of `unroll`; after each segment one
 * Adam step on the weights, then the iterates and recurrent state are carried on detached.
 */
export async function trainLearnedOptimizer(inputs: TrainInputs, options: Partial<TrainOptions> = {}): Promise<TrainResult> {
  const opts: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  checkTrainOptions(opts);
  const pool = (opts.workers ?? 1) > 1 ? await startSegmentPool(inputs.model, inputs.problem, opts.workers!, inputs.workerPlatform) : null;
  const adam = tf.train.adam(opts.learningRate) as AdjustableAdam;
  try {
    return await train(inputs, opts, pool, adam);
  } finally {
    // Also on error; workers also after an abort (the loop stops after the current step).
    adam.dispose();
    await pool?.terminate();
  }
}

/** Weights and meta-optimizer slots at the start of a global step: what a skipped or interrupted step returns to. */
interface StepSnapshot {
  weights: tf.Tensor[];
  adam: { name: string; tensor: tf.Tensor }[];
}

async function takeSnapshot(variables: tf.Variable[], adam: AdjustableAdam): Promise<StepSnapshot> {
  const live = await adam.getWeights(); // the slots themselves, and a new scalar for the iteration count
  const snapshot = { weights: variables.map((v) => tf.clone(v)), adam: live.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })) };
  live[0]?.tensor.dispose();
  return snapshot;
}

async function restoreSnapshot(snapshot: StepSnapshot, variables: tf.Variable[], adam: AdjustableAdam): Promise<void> {
  variables.forEach((v, i) => v.assign(snapshot.weights[i]!));
  await restoreAdam(snapshot.adam, adam);
}

/** Sets Adam's slots (and iteration count) to copies of `slots`. */
async function restoreAdam(slots: StepSnapshot['adam'], adam: AdjustableAdam): Promise<void> {
  const live = await adam.getWeights();
  const copies = slots.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
  // setWeights makes new slot variables from the copies (sharing their data); the old slots and
  // the copies' handles are ours to free.
  await adam.setWeights(copies);
  tf.dispose([...live.map((w) => w.tensor), ...copies.map((w) => w.tensor)]);
}

function disposeSnapshot(snapshot: StepSnapshot): void {
  tf.dispose([...snapshot.weights, ...snapshot.adam.map((w) => w.tensor)]);
}

type ProgressReport = Omit<TrainProgress, 'totalSteps' | 'segments' | 'elapsedSeconds' | 'etaSeconds'>;
/** What a global step came to: done, skipped or stopped on a non-finite value, or interrupted between segments. */
type StepOutcome = { kind: 'done'; losses: { step: number; loss: number }[] } | { kind: 'failed'; why: string } | { kind: 'stopped' };
type ValidationOutcome = 'validated' | 'diverged' | 'not best' | 'rolled back';

/** The training loop; with a pool, segments run on its workers and the batch stays there between them. */
async function train(inputs: TrainInputs, opts: TrainOptions, pool: SegmentWorkerPool | null, adam: AdjustableAdam): Promise<TrainResult> {
  const training = new MetaTraining(inputs, opts, pool, adam);
  await training.restore();
  await training.chooseMicroBatch();
  return training.run();
}

/** One meta-training's state and its steps: global steps, validations, the NaN guard, rollback and resume files. */
class MetaTraining {
  private readonly problem: Problem;
  private readonly model: LearnedOptimizer;
  private readonly variables: tf.Variable[];
  private readonly rng: Rng;
  private readonly segments: number;
  private readonly rollbackFactor: number;
  private readonly clipNorm: number;
  private state: Omit<TrainingState, 'metaOptimizer' | 'bestMetaOptimizer' | 'rng' | 'options'>;
  /**
   * With rollback: the Adam slots at the best validation (its weights are in state.best). Absent
   * otherwise, so checkpoints without rollback stay as they were. Kept for the resume file written
   * on interruption, after the loop; freed there, or on an error.
   */
  private bestAdam: StepSnapshot['adam'] | null = null;
  private microBatch = 0;
  private started = 0;
  /** The sessions of the resumed state, and where this one started (step and time so far). */
  private sessionsBefore: TrainingSession[] = [];
  private sessionFrom = { step: 0, seconds: 0 };
  /** The state at the last validation whose loss was finite (at first, the starting state). */
  private validated: StepSnapshot | null = null;

  constructor(
    private readonly inputs: TrainInputs,
    private readonly opts: TrainOptions,
    private readonly pool: SegmentWorkerPool | null,
    private readonly adam: AdjustableAdam,
  ) {
    this.problem = inputs.problem;
    this.model = inputs.model;
    this.variables = inputs.model.variables();
    this.rng = new Rng(opts.seed).fork('meta-training');
    this.segments = opts.iterations / opts.unroll;
    this.rollbackFactor = opts.rollbackFactor ?? 0;
    this.clipNorm = opts.clipNorm ?? 0;
    this.state = { nextStep: 0, learningRate: opts.learningRate, best: null, history: [], validation: [], seconds: 0 };
  }

  /** Continues from the resume checkpoint, when there is one: weights, Adam slots, generator, log. */
  async restore(): Promise<void> {
    const t = this.inputs.resume?.training;
    if (t) {
      this.model.setWeights(this.inputs.resume!.weights);
      await this.adam.setWeights(t.metaOptimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) })));
      this.rng.setState(t.rng);
      this.adam.learningRate = t.learningRate;
      this.state = { nextStep: t.nextStep, learningRate: t.learningRate, best: t.best, history: t.history, validation: t.validation, seconds: t.seconds };
      // A state written before sessions were recorded: its steps as one session of unknown commit.
      this.sessionsBefore = t.sessions ?? (t.nextStep > 0 ? [{ fromStep: 0, toStep: t.nextStep, seconds: t.seconds }] : []);
    }
    if (this.rollbackFactor > 0) {
      this.state.rollbacks = t?.rollbacks ?? 0;
      if (t?.best && t.bestMetaOptimizer) this.bestAdam = t.bestMetaOptimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
    }
  }

  /** The option, or 0: the largest micro-batch that fits the engine, probed once; a resumed run keeps its choice. */
  async chooseMicroBatch(): Promise<void> {
    const { opts, inputs } = this;
    this.microBatch = opts.microBatch > 0 ? Math.min(opts.microBatch, opts.batchSize) : (inputs.resume?.training?.microBatch ?? 0);
    if (this.microBatch > 0) return;
    const choice = await chooseMicroBatch(this.model, this.problem, inputs.validationSet, {
      batch: opts.batchSize,
      unroll: opts.unroll,
      workers: opts.workers ?? 1,
      budget: inputs.memoryBudget,
    });
    this.microBatch = choice.microBatch;
    inputs.onProgress?.({
      step: this.state.nextStep,
      totalSteps: opts.globalSteps,
      segment: 0,
      segments: this.segments,
      loss: Number.NaN,
      elapsedSeconds: 0,
      etaSeconds: Number.NaN,
      event: 'micro-batch',
      message: `micro-batch ${this.microBatch} of ${opts.batchSize}: ${choice.reason}`,
    });
  }

  /** The global steps from the next one to the last (or an interrupt), each followed by its validation when one is due. */
  async run(): Promise<TrainResult> {
    const { opts } = this;
    this.started = performance.now() - this.state.seconds * 1000;
    this.sessionFrom = { step: this.state.nextStep, seconds: this.state.seconds };
    this.validated = await takeSnapshot(this.variables, this.adam);
    let step = this.state.nextStep;
    try {
      for (; step < opts.globalSteps; step++) {
        await yieldToEventLoop();
        if (this.inputs.signal?.aborted) break;
        if (!(await this.globalStep(step))) break;
        if ((step + 1) % opts.validateEvery === 0 || step + 1 === opts.globalSteps) await this.validateAndKeep(step);
      }
    } catch (e) {
      this.disposeBestAdam();
      throw e;
    } finally {
      disposeSnapshot(this.validated);
    }
    return this.finish(step);
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  /** The resumed state's sessions, then this one's steps up to state.nextStep (none if it ran no step). */
  private sessions(): TrainingSession[] {
    const { nextStep, seconds } = this.state;
    if (nextStep <= this.sessionFrom.step) return this.sessionsBefore;
    const { commit, engine } = this.inputs.madeBy ?? {};
    const session: TrainingSession = { fromStep: this.sessionFrom.step, toStep: nextStep, seconds: seconds - this.sessionFrom.seconds };
    return [...this.sessionsBefore, { ...session, ...(commit ? { commit } : {}), ...(engine ? { engine } : {}) }];
  }

  private report(p: ProgressReport): void {
    const { opts } = this;
    const done = p.step + 1 - (this.inputs.resume?.training?.nextStep ?? 0);
    const rate = this.elapsed() / Math.max(1, p.step + 1);
    this.inputs.onProgress?.({
      ...p,
      totalSteps: opts.globalSteps,
      segments: this.segments,
      elapsedSeconds: this.elapsed(),
      etaSeconds: done > 0 ? rate * (opts.globalSteps - p.step - 1) : Number.NaN,
    });
  }

  /**
   * One global step: a fresh batch in micro-batches, its K iterations in segments, an Adam step
   * after each. A non-finite value skips or stops the step (the NaN guard); an interrupt between
   * segments undoes it. False when interrupted.
   */
  private async globalStep(step: number): Promise<boolean> {
    const { opts, inputs, problem, model, pool, rng } = this;
    // From the step number, so a resumed run goes on with the rate it stopped at.
    this.adam.learningRate = scheduledLearningRate(this.state.learningRate, step, opts.globalSteps, opts.lrSchedule);
    const set = await inputs.trainInstances(step, rng.fork(`train-${step}`));
    const slices: { set: InstanceSet; weight: number }[] = [];
    for (let start = 0; start < set.count; start += this.microBatch) {
      const part = sliceInstances(set, start, this.microBatch);
      slices.push({ set: part, weight: part.count / set.count });
    }
    const dropout = rng.fork(`dropout-${step}`);
    const parts: SegmentPart[] = [];
    const snapshot = await takeSnapshot(this.variables, this.adam);
    if (pool) {
      // The workers build the tensors and keep the states; the data crosses once per step.
      await pool.beginStep(slices, dropout);
    } else {
      for (const { set: part, weight } of slices) {
        const batch = problem.toBatch(part);
        parts.push({ batch, weight, state: tf.tidy(() => model.init(problem, batch)) });
      }
    }
    try {
      const outcome = await this.segmentsOf(step, parts, dropout);
      // An interrupted step is redone from its start on resume (its batch and dropout masks come
      // from generators fixed by the step number), so resumed = uninterrupted.
      if (outcome.kind === 'stopped') await restoreSnapshot(snapshot, this.variables, this.adam);
      else if (outcome.kind === 'failed') await this.nonFinite(step, outcome.why, snapshot);
      else this.state.history.push(...outcome.losses);
      return outcome.kind !== 'stopped';
    } finally {
      disposeSnapshot(snapshot);
      for (const part of parts) {
        disposeState(part.state);
        problem.disposeBatch(part.batch);
      }
      await pool?.endStep();
    }
  }

  /** The step's segments, each followed by an Adam step on the whole batch's (clipped) gradient. */
  private async segmentsOf(step: number, parts: SegmentPart[], dropout: Rng): Promise<StepOutcome> {
    const { opts, model, problem, pool, variables } = this;
    const losses: { step: number; loss: number }[] = [];
    for (let segment = 0; segment < this.segments; segment++) {
      if (segment > 0) {
        await yieldToEventLoop();
        if (this.inputs.signal?.aborted) return { kind: 'stopped' };
      }
      const k0 = segment * opts.unroll;
      const segmentResult = pool ? await runParallelSegment(pool, model, k0, opts.unroll) : await runSegment(model, problem, parts, k0, opts.unroll, dropout);
      const loss = segmentResult.loss;
      let accumulated = segmentResult.grads;
      const gradSq = await scalarOf(tf.tidy(() => tf.addN(Object.values(accumulated).map((g) => tf.sum(tf.square(g))))));
      if (!Number.isFinite(loss) || !Number.isFinite(gradSq)) {
        tf.dispose(accumulated);
        // The iterates of this batch are no longer usable.
        return { kind: 'failed', why: `segment ${segment + 1} gave loss ${loss} and squared gradient norm ${gradSq}` };
      }
      // The whole batch's gradient (every micro-batch and worker summed) is what is clipped.
      accumulated = clipByGlobalNorm(accumulated, this.clipNorm, Math.sqrt(gradSq));
      this.adam.applyGradients(variables.map((v) => ({ name: v.name, tensor: accumulated[v.name]! })));
      tf.dispose(accumulated);
      // A finite gradient can still take the weights out of range (a huge learning rate).
      const weightNorm = await scalarOf(tf.tidy(() => tf.addN(variables.map((v) => tf.sum(tf.square(v))))));
      if (!Number.isFinite(weightNorm)) return { kind: 'failed', why: `the update after segment ${segment + 1} made the weights non-finite` };
      losses.push({ step: step + 1, loss });
      this.report({ step, segment, loss, event: 'segment' });
    }
    return { kind: 'done', losses };
  }

  /** A due validation, and what follows it: the state a skipped step returns to, the resume file, or the NaN guard. */
  private async validateAndKeep(step: number): Promise<void> {
    const validation = await this.validate(step);
    if (validation === 'diverged') return;
    // The state a skipped step goes back to is that of the last finite validation.
    if (validation !== 'not best') {
      disposeSnapshot(this.validated!);
      this.validated = await takeSnapshot(this.variables, this.adam);
    }
    // Also at every validation, so that a process killed outright (SIGKILL, a machine going down)
    // loses at most validateEvery steps.
    if (this.inputs.resumeFile && step + 1 < this.opts.globalSteps) {
      this.state.nextStep = step + 1;
      this.state.seconds = this.elapsed();
      await this.saveResume(this.inputs.resumeFile);
    }
  }

  /**
   * Validates the current weights: 'diverged' when they diverge on the validation set (the NaN
   * guard has then acted: stopped, or gone back to the last validated state), 'not best'
   * when they do and onNonFiniteValidation is 'not-best', 'rolled back' when (with rollbackFactor)
   * the loss spiked or diverged and the best state was restored.
   */
  private async validate(step: number): Promise<ValidationOutcome> {
    const { opts, state, rollbackFactor } = this;
    const curve = await evaluateOptimizer(this.problem, this.model, this.inputs.validationSet, {
      iterations: opts.validationIterations,
      batchSize: this.microBatch,
    });
    // The training loss: mean over k = 1..K of the mean F(y_k).
    const loss = curve.meanF.slice(1).reduce((a, b) => a + b, 0) / opts.validationIterations;
    const finite = curve.divergedAt === null && Number.isFinite(loss);
    const nonFiniteInstances = curve.nonFiniteInstances ?? 0;
    const notFiniteOn = `on ${nonFiniteInstances} of ${curve.instances} instances`;
    // Steps are counted from 1 in everything a user reads (progress, summaries, checkpoints).
    if (finite) state.validation.push({ step: step + 1, loss });
    if (state.best && this.bestAdam && (!finite || loss > rollbackFactor * state.best.loss)) {
      await this.rollBack(
        step,
        finite ? `validation loss ${loss} > ${rollbackFactor} × the best ${state.best.loss}` : `validation loss not finite (${notFiniteOn})`,
      );
      return 'rolled back';
    }
    const lastLoss = state.history.at(-1)?.loss ?? Number.NaN;
    if (!finite && opts.onNonFiniteValidation === 'not-best') {
      // Kept in the log as not finite (JSON writes null), never as the best: training goes on.
      state.validation.push({ step: step + 1, loss: Number.POSITIVE_INFINITY, nonFiniteInstances });
      this.report({
        step,
        segment: this.segments - 1,
        loss: lastLoss,
        validation: Number.POSITIVE_INFINITY,
        bestValidation: state.best?.loss ?? Number.NaN,
        event: 'validation',
        message: `validation at global step ${step + 1} not finite (${notFiniteOn}): not the best`,
      });
      return 'not best';
    }
    if (!finite) {
      // Divergence that shows first on the validation set: back to the last validated state.
      await this.nonFinite(step, `the loss on the validation set is not finite (${notFiniteOn})`, this.validated!);
      return 'diverged';
    }
    if (!state.best || loss < state.best.loss) {
      state.best = { step: step + 1, loss, weights: this.model.getWeights() };
      if (rollbackFactor > 0) {
        if (this.bestAdam) tf.dispose(this.bestAdam.map((w) => w.tensor));
        this.bestAdam = (await takeSnapshot([], this.adam)).adam;
      }
    }
    this.report({ step, segment: this.segments - 1, loss: lastLoss, validation: loss, bestValidation: state.best.loss, event: 'validation' });
    return 'validated';
  }

  /** Back to the weights and Adam slots of the best validation (the schedule goes on from this step). */
  private async rollBack(step: number, why: string): Promise<void> {
    const { state } = this;
    const best = state.best!;
    this.model.setWeights(best.weights);
    await restoreAdam(this.bestAdam!, this.adam);
    state.rollbacks = (state.rollbacks ?? 0) + 1;
    this.report({
      step,
      segment: this.segments - 1,
      loss: state.history.at(-1)?.loss ?? Number.NaN,
      bestValidation: best.loss,
      event: 'rollback',
      message: `rolled back at global step ${step + 1}: ${why}; weights and Adam state of step ${best.step} restored (rollback ${state.rollbacks})`,
    });
  }

  /**
   * The NaN guard: with onNonFinite 'stop' an error that names where and the remedies; with
   * 'skip' the weights and Adam slots go back to the step's start (the last finite ones) and the
   * learning rate is multiplied by skipRateFactor (halved by default).
   */
  private async nonFinite(step: number, where: string, snapshot: StepSnapshot): Promise<void> {
    const { opts, state, adam } = this;
    if (opts.onNonFinite === 'stop') {
      throw new L2oError(
        `Meta-training of '${this.model.modelId}' diverged at global step ${step + 1}: ${where} (learning rate ${adam.learningRate}).`,
        'Lower the learning rate (--learning-rate, training.learningRate), or pass --on-nan skip to skip such steps and halve the rate.',
      );
    }
    await restoreSnapshot(snapshot, this.variables, adam);
    // The base rate is halved (skipRateFactor); a schedule scales it from the next step on.
    const factor = opts.skipRateFactor ?? 0.5;
    state.learningRate *= factor;
    adam.learningRate = scheduledLearningRate(state.learningRate, step, opts.globalSteps, opts.lrSchedule);
    const rate = `${opts.lrSchedule === 'cosine' ? 'base ' : ''}learning rate ${factor === 1 ? 'kept at' : 'now'} ${state.learningRate}`;
    this.report({ step, segment: 0, loss: Number.NaN, event: 'skipped', message: `skipped global step ${step + 1}: ${where}; weights restored, ${rate}` });
  }

  /** Everything a resumed run needs: weights, Adam slots (and the best's, with rollback), generator, log, options. */
  private async saveResume(file: string): Promise<void> {
    const live = await this.adam.getWeights(); // the slots themselves, and a new scalar for the iteration count
    const serialize = (slots: { name: string; tensor: tf.Tensor }[]) =>
      Promise.all(slots.map(async (w) => ({ name: w.name, shape: w.tensor.shape, data: Array.from(await w.tensor.data()) })));
    const metaOptimizer = await serialize(live);
    live[0]?.tensor.dispose();
    const training: TrainingState = {
      ...this.state,
      microBatch: this.microBatch,
      metaOptimizer,
      rng: this.rng.getState(),
      options: { ...this.opts },
      sessions: this.sessions(),
    };
    if (this.bestAdam) training.bestMetaOptimizer = await serialize(this.bestAdam);
    saveCheckpoint(file, checkpointOf(this.model, { training, meta: this.inputs.meta }));
  }

  private disposeBestAdam(): void {
    if (this.bestAdam) tf.dispose(this.bestAdam.map((w) => w.tensor));
    this.bestAdam = null;
  }

  /** After the loop: a training that kept no checkpoint fails; an interrupted one writes its resume file. */
  private async finish(step: number): Promise<TrainResult> {
    const { opts, state } = this;
    const interrupted = step < opts.globalSteps;
    if (!interrupted && !state.best && opts.onNonFiniteValidation === 'not-best') {
      this.disposeBestAdam();
      throw new L2oError(
        `Meta-training of '${this.model.modelId}' kept no checkpoint: none of its ${state.validation.length} validations had a finite loss (learning rate ${this.adam.learningRate}).`,
        'Lower the learning rate (--learning-rate, training.learningRate), or train longer.',
      );
    }
    state.nextStep = step;
    state.seconds = this.elapsed();
    try {
      if (interrupted && this.inputs.resumeFile) await this.saveResume(this.inputs.resumeFile);
    } finally {
      this.disposeBestAdam();
    }
    return {
      completedSteps: step,
      interrupted,
      best: state.best,
      history: state.history,
      validation: state.validation,
      seconds: state.seconds,
      microBatch: this.microBatch,
      ...(state.rollbacks !== undefined ? { rollbacks: state.rollbacks } : {}),
      sessions: this.sessions(),
    };
  }
}

/** A scalar tensor's value, the tensor freed. */
async function scalarOf(t: tf.Tensor): Promise<number> {
  const value = (await t.data())[0]!;
  t.dispose();
  return value;
}
