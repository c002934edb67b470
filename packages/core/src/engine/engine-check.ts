import { tf } from '../tf.js';
import type { Platform } from '../container.js';
import type { SerializedWeights } from '../contracts/learned-optimizer.js';
import { Rng } from '../random/rng.js';
import { evaluateOptimizer } from '../evaluate/evaluator.js';
import { disposeState } from '../evaluate/state.js';
import { runSegment } from '../train/segment.js';
import { selectEngine, type EngineName } from './engine.js';

// `l2o doctor --check`: one way to trust an engine we cannot test here (the user's GPU). A smoke
// meta-training segment (loss and gradients) and an evaluation (F after some iterations) run on
// two engines from the same instances and the same weights; they must agree to float32 tolerance.

export interface EngineRun {
  engine: EngineName;
  backend: string;
  loss: number;
  finalF: number;
  seconds: number;
}

export interface EngineCheck {
  model: string;
  runs: [EngineRun, EngineRun];
  /** |loss_a − loss_b| / |loss_b|. */
  lossError: number;
  /** Largest ‖g_a − g_b‖ / ‖g_b‖ over the model's variables. */
  gradientError: number;
  /** |F_a − F_b| / |F_b| after the evaluation's iterations. */
  finalFError: number;
  tolerance: number;
  agree: boolean;
}

export interface EngineCheckSpec {
  /** The engine under test (the selected one) and the one it is checked against. */
  engines: [EngineName, EngineName];
  /** A learned optimizer's id, and a problem whose default dataset draws the instances (with these options). */
  model: string;
  problem: string;
  datasetOptions?: Record<string, unknown>;
  /** Instances in the smoke batch. */
  batch?: number;
  unroll?: number;
  iterations?: number;
  seed?: number;
  tolerance?: number;
  resolveFrom?: string[];
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

/** Runs the smoke segment and evaluation on both engines and compares them. */
export async function checkEngines(platform: Platform, spec: EngineCheckSpec): Promise<EngineCheck> {
  const modelId = spec.model;
  const problemId = spec.problem;
  const { registry } = platform;
  const problemReg = registry.get('problem', problemId);
  const dataset = registry.get('dataset', problemReg.create({}).defaultDataset).create({});
  // Instances are drawn in plain JS from the seed: the same on every engine.
  const set = await dataset.instances(
    { problem: problemId, split: 'train', count: spec.batch ?? 8, rng: Rng.stream(spec.seed ?? 0, 'engine-check'), options: spec.datasetOptions ?? {} },
    platform.datasetContext,
  );
  let weights: SerializedWeights | null = null;
  const runs: EngineRun[] = [];
  const gradients: Record<string, Float32Array>[] = [];
  for (const engine of spec.engines) {
    const report = await selectEngine(engine, { resolveFrom: spec.resolveFrom });
    const started = performance.now();
    const problem = problemReg.create({});
    const model = registry.get('model', modelId).create({ seed: spec.seed ?? 0 });
    try {
      if (weights) model.setWeights(weights);
      else weights = model.getWeights();
      const batch = problem.toBatch(set);
      const parts = [{ batch, weight: 1, state: tf.tidy(() => model.init(problem, batch)) }];
      const { loss, grads } = await runSegment(model, problem, parts, 0, spec.unroll ?? 10);
      const read: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(grads)) read[name] = (await g.data()) as Float32Array;
      tf.dispose(grads);
      for (const p of parts) disposeState(p.state);
      problem.disposeBatch(batch);
      // The weights as they were (runSegment does not step them), evaluated.
      const curve = await evaluateOptimizer(problem, model, set, { iterations: spec.iterations ?? 20, batchSize: set.count });
      runs.push({ engine, backend: report.backend, loss, finalF: curve.meanF.at(-1)!, seconds: (performance.now() - started) / 1000 });
      // Variable names carry a per-instance counter: keep the order, not the names.
      gradients.push(Object.fromEntries(Object.values(read).map((g, i) => [String(i), g])));
    } finally {
      model.dispose();
    }
  }
  const [a, b] = runs as [EngineRun, EngineRun];
  let gradientError = 0;
  for (const [name, gb] of Object.entries(gradients[1]!)) {
    const ga = gradients[0]![name]!;
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < gb.length; i++) {
      diff += (ga[i]! - gb[i]!) ** 2;
      norm += gb[i]! ** 2;
    }
    gradientError = Math.max(gradientError, Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30));
  }
  const tolerance = spec.tolerance ?? 1e-4;
  const lossError = relative(a.loss, b.loss);
  const finalFError = relative(a.finalF, b.finalF);
  const agree = [lossError, gradientError, finalFError].every((e) => Number.isFinite(e) && e <= tolerance);
  return { model: modelId, runs: [a, b], lossError, gradientError, finalFError, tolerance, agree };
}
