// A stored learned optimizer against FISTA on one problem instance, iteration by iteration: what
// the dashboard's live page runs in the browser, and what its tests run in Node to compare. It
// imports only the portable entry points (no `node:` module), so it bundles for a browser page.
import {
  DEFAULT_REFERENCE,
  PluginRegistry,
  Rng,
  disposeState,
  evaluationPoint,
  rollout,
  solveReference,
  tf,
  type InstanceSet,
  type Optimizer,
  type Problem,
} from '@l2o/core/portable';
import { register as registerBaselines } from '@l2o/baselines';
import { register as registerModels } from '@l2o/models';
import { register as registerProblems } from '@l2o/problems';
import { generateSynthetic, syntheticSettings } from '@l2o/datasets/synthetic';

/** The parts of an l2o checkpoint the page needs. */
export interface LiveCheckpoint {
  modelId: string;
  config: Record<string, unknown>;
  weights: Record<string, { shape: number[]; data: (number | null)[] }>;
}

export interface LiveRequest {
  checkpoint: LiveCheckpoint;
  /** The problem the checkpoint was trained on (its options as the run recorded them). */
  problem: { id: string; options: Record<string, unknown> };
  /** Options of the synthetic dataset the instance is drawn from (the run's training dataset options). */
  datasetOptions: Record<string, unknown>;
  /** Seed of the instance. */
  seed: number;
  iterations: number;
  /** Extra options of the learned optimizer (e.g. { safeguard: 'fista' }). */
  modelOptions?: Record<string, unknown>;
}

export interface LiveCurve {
  label: string;
  /** F(x_k), k = 0 … iterations. */
  f: number[];
  /** (F(x_k) − F*) / F*. */
  gap: number[];
}

export interface LiveResult {
  fStar: number;
  curves: LiveCurve[];
  backend: string;
}

/** A registry holding this repository's models, problems and baselines (no discovery: a page has no node_modules to scan). */
export function liveRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registerProblems(registry.registrarFor({ packageName: '@l2o/problems', version: '', root: '' }));
  registerBaselines(registry.registrarFor({ packageName: '@l2o/baselines', version: '', root: '' }));
  registerModels(registry.registrarFor({ packageName: '@l2o/models', version: '', root: '' }));
  return registry;
}

/** One synthetic instance of the problem, drawn from the seed's own stream. */
export function drawLiveInstance(problemId: string, datasetOptions: Record<string, unknown>, seed: number): InstanceSet {
  return generateSynthetic(syntheticSettings(problemId, datasetOptions), 1, Rng.stream(seed, 'live'));
}

/** F(x_k) of a one-instance batch's evaluation point, read back. */
async function objectiveOf(problem: Problem, batch: ReturnType<Problem['toBatch']>, state: Parameters<typeof evaluationPoint>[0]): Promise<number> {
  const f = tf.tidy(() => problem.objective(batch, evaluationPoint(state)));
  const [value] = await f.data();
  f.dispose();
  return value!;
}

/**
 * Runs the learned optimizer and FISTA from the same start on one instance; `onIteration` sees
 * each optimizer's F and gap as they come (the learned one first, then FISTA).
 */
export async function runLive(
  request: LiveRequest,
  onIteration?: (label: string, k: number, f: number, gap: number) => void | Promise<void>,
): Promise<LiveResult> {
  const registry = liveRegistry();
  const problem = registry.get('problem', request.problem.id).create(request.problem.options);
  const set = drawLiveInstance(request.problem.id, request.datasetOptions, request.seed);
  problem.validate(set);
  const reference = registry.get('optimizer', problem.referenceSolver.id).create({ ...problem.referenceSolver.options });
  const { fStar: fStars } = await solveReference(problem, reference, set, { ...DEFAULT_REFERENCE, batchSize: 1 });
  const fStar = fStars[0]!;
  const model = registry.get('model', request.checkpoint.modelId).create({ ...request.checkpoint.config, ...request.modelOptions });
  model.setWeights(request.checkpoint.weights as Parameters<typeof model.setWeights>[0]);
  const fista = registry.get('optimizer', 'fista').create({});
  const optimizers: [string, Optimizer][] = [
    [request.checkpoint.modelId, model],
    ['fista', fista],
  ];
  const batch = problem.toBatch(set);
  const curves: LiveCurve[] = [];
  try {
    for (const [label, optimizer] of optimizers) {
      const curve: LiveCurve = { label, f: [], gap: [] };
      const { state } = await rollout(problem, optimizer, batch, {
        iterations: request.iterations,
        onState: async (s, k) => {
          const f = await objectiveOf(problem, batch, s);
          const gap = (f - fStar) / Math.abs(fStar);
          curve.f.push(f);
          curve.gap.push(gap);
          await onIteration?.(label, k, f, gap);
        },
      });
      disposeState(state);
      curves.push(curve);
    }
  } finally {
    problem.disposeBatch(batch);
    model.dispose();
  }
  return { fStar, curves, backend: tf.getBackend() };
}
