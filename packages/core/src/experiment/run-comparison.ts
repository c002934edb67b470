// Running a comparison: prepare (comparison/prepare.ts), train and evaluate each optimizer
// (comparison/jobs.ts), write the run (comparison/output.ts). This module is the public face of all three.
import type { Platform } from '../container.js';
import type { LearnedOptimizer } from '../contracts/learned-optimizer.js';
import type { WorkerOptions } from '../evaluate/parallel/workers.js';
import { workerPlatformOf } from '../train/parallel/worker-pool.js';
import { checkWorkersOnEngine } from '../train/training-options.js';
import { disposeModels, prepareComparison, type ComparisonSpec } from './comparison/prepare.js';
import { evaluateOne, testSetOf, trainOne, type ComparisonEvent, type EvaluatedOptimizer } from './comparison/jobs.js';
import { writeRun, type ComparisonResult } from './comparison/output.js';

export {
  cachedCheckpointPath,
  comparisonWorkload,
  planComparison,
  trainingLogOf,
  type ComparisonPlan,
  type ComparisonSpec,
  type ComparisonWorkload,
  type OptimizerRef,
} from './comparison/prepare.js';
export {
  comparisonJobs,
  evaluateComparisonOptimizer,
  evaluatedFromKept,
  trainComparisonOptimizer,
  type ComparisonEvent,
  type ComparisonJobs,
  type EvaluatedOptimizer,
  type TrainedOptimizer,
} from './comparison/jobs.js';
export { writeComparisonRun, type ComparisonResult } from './comparison/output.js';

/** How a comparison runs, not what it computes (so not part of its spec, its id or its cache keys). */
export interface ComparisonExecution {
  /**
   * Worker threads of the test set's reference solve and of the evaluations (the same numbers for
   * any count); default: the training's workers, else 1. A sweep's jobs use one each (a job is one core).
   */
  workers?: number;
}

/**
 * Trains what needs training (reusing checkpoints of identical config), evaluates every
 * optimizer on the same test instances, and writes a run directory atomically.
 */
export async function runComparison(
  platform: Platform,
  spec: ComparisonSpec,
  onEvent: (e: ComparisonEvent) => void = () => {},
  signal?: AbortSignal,
  execution: ComparisonExecution = {},
): Promise<ComparisonResult> {
  const prepared = prepareComparison(platform, spec);
  const workers = execution.workers ?? prepared.trainOpts.workers ?? 1;
  const parallel: WorkerOptions = { workers, workerPlatform: workerPlatformOf(platform) };
  try {
    checkWorkersOnEngine(platform.engine.chosen, workers);
    const testSet = await testSetOf(platform, prepared, onEvent, signal, parallel);
    const evaluated: EvaluatedOptimizer[] = [];
    for (const b of prepared.built) {
      await trainOne(platform, prepared, b, onEvent, signal);
      evaluated.push(await evaluateOne(platform, prepared, testSet, b, onEvent, signal, parallel));
      if (b.learned) (b.optimizer as LearnedOptimizer).dispose();
      b.disposed = true;
    }
    return await writeRun(platform, prepared, spec, evaluated);
  } finally {
    disposeModels(prepared);
  }
}
