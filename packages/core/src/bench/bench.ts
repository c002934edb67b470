import type { Platform } from '../container.js';
import { tf } from '../tf.js';
import { Rng } from '../random/rng.js';
import { evaluationPoint } from '../contracts/optimizer.js';
import { disposeState } from '../evaluate/state.js';
import { rollout } from '../evaluate/rollout.js';
import { throwIfInterrupted } from '../errors.js';
import { yieldToEventLoop } from '../util/yield.js';
import { runSegment, type SegmentPart } from '../train/segment.js';
import { chooseMicroBatch } from '../train/micro-batch.js';
import { checkWorkerCount, checkWorkersOnEngine } from '../train/training-options.js';
import { runParallelSegment, startSegmentPool, workerPlatformOf, type SegmentWorkerPool } from '../train/parallel/worker-pool.js';
import { sliceInstances } from '../contracts/instances.js';
import type { PluginRef } from '../experiment/train-model.js';
import { engineLabel } from '../engine/extensions.js';

export interface BenchSpec {
  model: PluginRef;
  /** The problem timed (torch_reference.py times LASSO); its default dataset draws the batch. */
  problem: PluginRef;
  m: number;
  n: number;
  s: number;
  batch: number;
  unroll: number;
  repeats: number;
  /** Instances per forward/backward pass (0: the largest that fits the engine's memory, probed). */
  microBatch: number;
  seed: number;
  /** Worker threads sharing the micro-batches of the training segment, as `l2o train --workers` (default 1). */
  workers?: number;
  /** Stops between timed runs and iterations with InterruptedError. */
  signal?: AbortSignal;
}

/** Field names follow the PyTorch yardstick torch_reference.py so the two can be compared directly. */
export interface BenchResult {
  model: string;
  axis?: string;
  m: number;
  n: number;
  batch: number;
  unroll: number;
  threads: number;
  train_segment_ms: number;
  eval_iter_ms: number;
  params: number;
  peak_rss_mb: number;
  engine: string;
  micro_batch: number;
  /** How an automatic micro-batch was chosen; absent when --micro-batch was given. */
  micro_batch_auto?: string;
  workers: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Checks a benchmark's model, options and worker count; what `l2o bench --dry-run` prints. */
export function planBench(platform: Platform, spec: BenchSpec): { model: string; parameters: number; microBatch: number | 'auto'; workers: number } {
  checkWorkerCount({ workers: spec.workers ?? 1, batchSize: spec.batch, microBatch: spec.microBatch });
  checkWorkersOnEngine(platform.engine.chosen, spec.workers);
  const model = platform.registry.get('model', spec.model.id).create(spec.model.options ?? {});
  const plan = {
    model: model.modelId,
    parameters: model.parameterCount(),
    microBatch: spec.microBatch > 0 ? spec.microBatch : ('auto' as const),
    workers: spec.workers ?? 1,
  };
  model.dispose();
  return plan;
}

/**
 * Times the workload of torch_reference.py: one meta-training segment (forward through `unroll`
 * iterations on a LASSO batch, loss = mean F(y_k), backward, one Adam step) and one evaluation
 * iteration without gradients; the first run of each is a warm-up.
 */
export async function benchModel(platform: Platform, spec: BenchSpec): Promise<BenchResult> {
  const workers = spec.workers ?? 1;
  checkWorkerCount({ workers, batchSize: spec.batch, microBatch: spec.microBatch });
  const problem = platform.registry.get('problem', spec.problem.id).create(spec.problem.options ?? {});
  const dataset = platform.registry.get('dataset', problem.defaultDataset).create({});
  const model = platform.registry.get('model', spec.model.id).create(spec.model.options ?? {});
  const set = await dataset.instances(
    { problem: problem.id, split: 'train', count: spec.batch, rng: new Rng(spec.seed), options: { m: spec.m, n: spec.n, s: spec.s, lambda: 0.1 } },
    platform.datasetContext,
  );
  const auto = spec.microBatch > 0 ? null : await chooseMicroBatch(model, problem, set, { batch: spec.batch, unroll: spec.unroll, workers });
  const micro = auto ? auto.microBatch : spec.microBatch;
  const batches = [];
  const slices = [];
  for (let start = 0; start < set.count; start += micro) {
    const part = sliceInstances(set, start, micro);
    slices.push({ set: part, weight: part.count / set.count });
    batches.push({ batch: problem.toBatch(part), weight: part.count / set.count });
  }
  const adam = tf.train.adam(1e-2);
  const variables = model.variables();
  const rng = new Rng(spec.seed).fork('dropout');

  const trainMs: number[] = [];
  // With workers, the segment is timed as the trainer runs it: weights out, shard segments in
  // parallel, gradients back and summed, Adam here. The batch is posted once, outside the timing.
  let pool: SegmentWorkerPool | null = null;
  try {
    if (workers > 1) {
      pool = await startSegmentPool(model, problem, workers, workerPlatformOf(platform));
      await pool.beginStep(slices, rng);
    }
    for (let i = 0; i <= spec.repeats; i++) {
      await yieldToEventLoop();
      throwIfInterrupted(spec.signal);
      if (pool && i > 0) await pool.restart();
      const parts: SegmentPart[] = pool ? [] : batches.map(({ batch, weight }) => ({ batch, weight, state: tf.tidy(() => model.init(problem, batch)) }));
      const started = performance.now();
      // The loss read-back in runSegment synchronises with the engine. (tf.profile is not used: its
      // kernel log overflows the call stack on segments of this size.)
      const { grads } = pool ? await runParallelSegment(pool, model, 0, spec.unroll) : await runSegment(model, problem, parts, 0, spec.unroll, rng);
      adam.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      tf.dispose(grads);
      if (i > 0) trainMs.push(performance.now() - started);
      for (const p of parts) disposeState(p.state);
    }
  } finally {
    await pool?.terminate();
  }

  // Evaluation keeps no tape, so it runs the whole batch in one pass, as the evaluator runs a test
  // batch and as the yardstick does: the training's micro-batches would only add passes.
  const whole = problem.toBatch(set);
  const evalMs: number[] = [];
  for (let i = 0; i <= spec.repeats; i++) {
    const started = performance.now();
    let loss: tf.Scalar = tf.scalar(0);
    const { state } = await rollout(problem, model, whole, {
      iterations: spec.unroll,
      signal: spec.signal,
      onState: (s, k) => {
        if (k === 0) return;
        const summed = tf.tidy<tf.Scalar>(() => tf.add(loss, tf.mean(problem.objective(whole, evaluationPoint(s)))));
        loss.dispose();
        loss = summed;
      },
    });
    await loss.data();
    loss.dispose();
    disposeState(state);
    if (i > 0) evalMs.push((performance.now() - started) / spec.unroll);
  }

  for (const { batch } of batches) problem.disposeBatch(batch);
  problem.disposeBatch(whole);
  adam.dispose();
  const result: BenchResult = {
    model: model.modelId,
    axis: (model.config.attention as { axis?: string } | undefined)?.axis,
    m: spec.m,
    n: spec.n,
    batch: spec.batch,
    unroll: spec.unroll,
    threads: workers,
    train_segment_ms: Math.round(median(trainMs) * 10) / 10,
    eval_iter_ms: Math.round(median(evalMs) * 100) / 100,
    params: model.parameterCount(),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    engine: engineLabel(platform.engine.chosen),
    micro_batch: micro,
    ...(auto ? { micro_batch_auto: auto.reason } : {}),
    workers,
  };
  model.dispose();
  return result;
}
