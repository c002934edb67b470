import type { Platform } from '../container.js';
import { evaluationPoint } from '../contracts/optimizer.js';
import { isLearnedOptimizer } from '../contracts/learned-optimizer.js';
import { tf } from '../tf.js';
import type { Optimizer } from '../contracts/optimizer.js';
import { UsageError } from '../errors.js';
import { loadInstances, saveInstances } from '../io/instance-store.js';
import { checkOutputPath } from '../io/output-paths.js';
import { disposeState } from '../evaluate/state.js';
import { rollout } from '../evaluate/rollout.js';
import { forEachBatch } from '../evaluate/batches.js';
import { DEFAULT_REFERENCE } from '../evaluate/reference.js';
import { checkpointProblemWarning, loadCheckpointInto, readCheckpoint } from '../train/checkpoint.js';
import { getScale } from './scales.js';
import { datasetOptionsAtScale, type PluginRef } from './train-model.js';
import { loadOrBuildTestSet } from './test-set.js';

export interface ExportTestSetSpec {
  problem: PluginRef;
  dataset: PluginRef;
  scale: string;
  seed: number;
  count?: number;
  /** Check ids, options and the output folder, and stop before drawing or solving anything. */
  dryRun?: boolean;
}

/** Writes a test set (the same one runs use, with F* and the reference solution) to a folder. */
export async function exportTestSet(
  platform: Platform,
  spec: ExportTestSetSpec,
  out: string,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ count: number; dir: string }> {
  checkOutputPath(out, 'new-dir', '--out');
  checkOutputPath(platform.datasetContext.cacheDir, 'dir', 'The cache folder (--cache-dir, L2O_CACHE_DIR)');
  const scale = getScale(spec.scale);
  const problem = platform.registry.get('problem', spec.problem.id).create(spec.problem.options ?? {});
  const dataset = platform.registry.get('dataset', spec.dataset.id).create({});
  const reference = platform.registry.get('optimizer', problem.referenceSolver.id).create({ ...problem.referenceSolver.options });
  if (spec.dryRun) return { count: spec.count ?? scale.test.count, dir: out };
  const { set } = await loadOrBuildTestSet(
    dataset,
    problem,
    reference,
    {
      dataset: { id: dataset.id, options: datasetOptionsAtScale(spec.dataset, dataset, scale.datasetPreset) },
      problem: { id: problem.id, options: { ...problem.options } },
      split: 'test',
      count: spec.count ?? scale.test.count,
      seed: spec.seed,
      reference: { id: reference.id, options: { ...reference.options }, ...DEFAULT_REFERENCE, ...scale.reference },
    },
    platform.datasetContext,
    scale.test.batchSize,
    onProgress,
    signal,
  );
  await saveInstances(out, set, set.solution);
  return { count: set.count, dir: out };
}

export interface SolveSpec {
  /** A folder in the exchange format (instances.json + .npy files). */
  input: string;
  optimizer: PluginRef;
  /** For a learned optimizer: the checkpoint with its weights. */
  checkpoint?: string;
  problemOptions?: Record<string, unknown>;
  iterations: number;
  batchSize: number;
  /** Stops between iterations with InterruptedError; nothing is written then. */
  signal?: AbortSignal;
  /** Check the input, optimizer, checkpoint and output, and stop before solving. */
  dryRun?: boolean;
}

/**
 * Runs an optimizer on instances given in the exchange format and writes them back with the
 * solution it reached (x_star.npy) and its objective per instance (result.json).
 */
export async function solveInstances(platform: Platform, spec: SolveSpec, out: string): Promise<{ objective: number[] }> {
  // Cheap checks first, so that bad usage fails at once and leaves nothing behind.
  checkOutputPath(out, 'new-dir', '--out');
  const optimizer: Optimizer = platform.registry.getAny(['optimizer', 'model'], spec.optimizer.id).create(spec.optimizer.options ?? {});
  try {
    if (isLearnedOptimizer(optimizer) && !spec.checkpoint) {
      throw new UsageError(`'${optimizer.id}' is a learned optimizer.`, 'Give its --checkpoint.');
    }
    const set = loadInstances(spec.input);
    const problem = platform.registry.get('problem', set.problem).create(spec.problemOptions ?? {});
    problem.validate(set);
    if (isLearnedOptimizer(optimizer)) {
      const checkpoint = readCheckpoint(spec.checkpoint!);
      const warning = checkpointProblemWarning(checkpoint, { id: problem.id, options: { ...problem.options } });
      if (warning) platform.logger.warn(warning);
      loadCheckpointInto(optimizer, checkpoint, { file: spec.checkpoint! });
    }
    if (spec.dryRun) return { objective: [] };
    const x = new Float32Array(set.count * set.n);
    const objective: number[] = [];
    await forEachBatch(problem, set, { batchSize: spec.batchSize, signal: spec.signal }, async (batch, start) => {
      const { state } = await rollout(problem, optimizer, batch, { iterations: spec.iterations, signal: spec.signal });
      const point = evaluationPoint(state);
      const F = tf.tidy(() => problem.objective(batch, point));
      objective.push(...(await F.data()));
      x.set(await point.data(), start * set.n);
      F.dispose();
      disposeState(state);
    });
    const gaps = set.fStar ? objective.map((f, i) => (f - set.fStar![i]!) / Math.abs(set.fStar![i]!)) : undefined;
    await saveInstances(out, set, x, {
      'result.json': `${JSON.stringify({ optimizer: spec.optimizer, iterations: spec.iterations, objective, relativeGap: gaps }, null, 1)}\n`,
    });
    return { objective };
  } finally {
    if (isLearnedOptimizer(optimizer)) optimizer.dispose();
  }
}
