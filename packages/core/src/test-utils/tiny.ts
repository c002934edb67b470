// Small, self-contained plugins for the core's own tests: the core must not depend on the
// plugin packages, so its trainer and evaluator are tested against these.
import { tf } from '../tf.js';
import type { Dataset } from '../contracts/dataset.js';
import type { InstanceSet } from '../contracts/instances.js';
import type { Problem, ProblemBatch } from '../contracts/problem.js';
import type { OptimizerState, StepContext, Optimizer } from '../contracts/optimizer.js';
import type { LearnedOptimizer, SerializedWeights } from '../contracts/learned-optimizer.js';
import { Rng } from '../random/rng.js';
import path from 'node:path';
import { bootPlatform, type BootOptions, type Platform } from '../container.js';
import type { ComparisonSpec } from '../experiment/run-comparison.js';
import type { TrainOptions } from '../train/trainer.js';

/** LASSO with one dense A per instance; L by many power iterations. */
export const tinyLasso: Problem = {
  id: 'lasso',
  options: {},
  referenceSolver: { id: 'ista' },
  defaultDataset: 'tiny',
  validate() {},
  toBatch(set: InstanceSet): ProblemBatch {
    return tf.tidy(() => {
      const A = tf.tensor3d(set.A, [set.count, set.m, set.n]);
      const b = tf.tensor2d(set.b, [set.count, set.m]);
      let v = tf.ones([set.count, set.n, 1]);
      const AtA = tf.matMul(A, A, true, false);
      for (let i = 0; i < 200; i++) {
        const w = tf.matMul(AtA, v);
        v = tf.div(w, tf.norm(w, 'euclidean', [1, 2], true));
      }
      const L = tf.reshape<tf.Rank.R1>(tf.sum(tf.mul(v, tf.matMul(AtA, v)), [1, 2]), [set.count]);
      return { problem: 'lasso', size: set.count, m: set.m, n: set.n, lambda: set.lambda, sharedA: false, A, b, L };
    });
  },
  disposeBatch(batch) {
    tf.dispose([batch.A, batch.b, batch.L]);
  },
  f(batch, x) {
    return tf.tidy(() => {
      const r = tf.sub(tf.squeeze(tf.matMul(batch.A as tf.Tensor3D, tf.expandDims(x, 2)), [2]), batch.b);
      return tf.mul<tf.Tensor1D>(0.5, tf.sum(tf.square(r), 1));
    });
  },
  grad(batch, x) {
    return tf.tidy(() => {
      const A = batch.A as tf.Tensor3D;
      const r = tf.sub(tf.matMul(A, tf.expandDims(x, 2)), tf.expandDims(batch.b, 2));
      return tf.squeeze<tf.Tensor2D>(tf.matMul(A, r, true, false), [2]);
    });
  },
  prox(batch, v, step) {
    return tf.tidy(() => tf.mul<tf.Tensor2D>(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(batch.lambda, step)))));
  },
  objective(batch, x) {
    return tf.tidy(() => tf.add<tf.Tensor1D>(tinyLasso.f(batch, x), tf.mul(batch.lambda, tf.sum(tf.abs(x), 1))));
  },
  subgradient(batch, x) {
    return tf.tidy(() => tf.add<tf.Tensor2D>(tinyLasso.grad(batch, x), tf.mul(batch.lambda, tf.sign(x))));
  },
  kktResidual(batch, x) {
    return tf.tidy(() => {
      const g = tinyLasso.grad(batch, x);
      const onSupport = tf.abs(tf.add(g, tf.mul(batch.lambda, tf.sign(x))));
      const offSupport = tf.relu(tf.sub(tf.abs(g), batch.lambda));
      return tf.max<tf.Tensor1D>(tf.where(tf.notEqual(x, 0), onSupport, offSupport), 1);
    });
  },
};

export function tinyLassoSet(count: number, m: number, n: number, s: number, rng: Rng): InstanceSet {
  const A = rng.normals(count * m * n);
  const b = new Float32Array(count * m);
  for (let i = 0; i < count; i++) {
    const x = new Float64Array(n);
    for (const j of rng.sample(n, s)) x[j] = rng.normal();
    for (let r = 0; r < m; r++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += A[i * m * n + r * n + j]! * x[j]!;
      b[i * m + r] = acc;
    }
  }
  return { problem: 'lasso', count, m, n, lambda: 0.1, sharedA: false, A, b, meta: {} };
}

/** The 'tiny' dataset: tinyLassoSet instances (5×8, s = 2) from the request's generator, for tests that go through a dataset. */
export const tinyDataset: Dataset = {
  id: 'tiny',
  serves: ['lasso'],
  fixed: false,
  instances: async (request) => tinyLassoSet(request.count, 5, 8, 2, request.rng),
  describe: async () => ({ id: 'tiny', serves: ['lasso'], description: 'tiny LASSO', needsFiles: false, present: true }),
};

/** ISTA with step 1/L. */
export const tinyIsta: Optimizer = {
  id: 'ista',
  options: {},
  init: (_p, batch) => ({ x: tf.zeros<tf.Rank.R2>([batch.size, batch.n]) }),
  step: (problem, batch, state) =>
    tf.tidy(() => {
      const step = tf.reshape(tf.div(1, batch.L), [batch.size, 1]);
      return { x: problem.prox(batch, tf.sub(state.x, tf.mul(step, problem.grad(batch, state.x))), step) };
    }),
};

/**
 * A small PA-style learned optimizer: an MLP (2 → hidden, tanh) gives per-coordinate P and A,
 * the update is x⁺ = prox(y − P s ∇f, P s), y⁺ = x⁺ + A (x⁺ − x). Dropout on the hidden layer
 * while training, drawn from the context's generator.
 */
export class TinyLearned implements LearnedOptimizer {
  readonly learned = true;
  readonly id = 'tiny';
  readonly modelId = 'tiny';
  readonly options: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  private readonly vars: tf.Variable[];
  private static instances = 0;
  private static logical = (v: tf.Variable) => v.name.slice(v.name.indexOf('/') + 1);

  constructor(config: { hidden?: number; seed?: number; dropout?: number } = {}) {
    const hidden = config.hidden ?? 4;
    this.config = { hidden, seed: config.seed ?? 0, dropout: config.dropout ?? 0 };
    this.options = this.config;
    const rng = new Rng(config.seed ?? 0);
    // tfjs variable names are global: each instance gets its own prefix; weights are saved under
    // the part after it, so checkpoints do not depend on the instance.
    const prefix = `tiny${TinyLearned.instances++}`;
    const u = (n: number, scale: number) => Float32Array.from(rng.normals(n), (v) => v * scale);
    this.vars = [
      tf.variable(tf.tensor2d(u(2 * hidden, 0.5), [2, hidden]), true, `${prefix}/w1`),
      tf.variable(tf.zeros([hidden]), true, `${prefix}/b1`),
      tf.variable(tf.tensor2d(u(hidden * 2, 0.5), [hidden, 2]), true, `${prefix}/w2`),
      tf.variable(tf.zeros([2]), true, `${prefix}/b2`),
    ];
  }

  variables() {
    return this.vars;
  }
  parameterCount() {
    return this.vars.reduce((a, v) => a + v.size, 0);
  }
  getWeights(): SerializedWeights {
    return Object.fromEntries(this.vars.map((v) => [TinyLearned.logical(v), { shape: v.shape, data: Array.from(v.dataSync()) }]));
  }
  setWeights(w: SerializedWeights) {
    for (const v of this.vars) {
      const t = tf.tensor(w[TinyLearned.logical(v)]!.data, w[TinyLearned.logical(v)]!.shape);
      v.assign(t);
      t.dispose();
    }
  }
  dispose() {
    tf.dispose(this.vars);
  }
  init(_p: Problem, batch: ProblemBatch): OptimizerState {
    return { x: tf.zeros<tf.Rank.R2>([batch.size, batch.n]), y: tf.zeros<tf.Rank.R2>([batch.size, batch.n]) };
  }
  step(problem: Problem, batch: ProblemBatch, state: OptimizerState, ctx: StepContext): OptimizerState {
    return tf.tidy(() => {
      const y = state.y!;
      const g = problem.grad(batch, y);
      const features = tf.stack([tf.reshape(g, [-1]), tf.reshape(y, [-1])], 1);
      let h = tf.tanh(tf.add(tf.matMul(features, this.vars[0]!), this.vars[1]!));
      const rate = this.config.dropout as number;
      if (ctx.training && rate > 0 && ctx.rng) {
        const mask = Float32Array.from({ length: h.size }, () => (ctx.rng!.uniform() < rate ? 0 : 1 / (1 - rate)));
        h = tf.mul(h, tf.tensor(mask, h.shape));
      }
      const out = tf.mul(2, tf.sigmoid(tf.add(tf.matMul(h, this.vars[2]!), this.vars[3]!)));
      const [P, A] = tf.split(out, 2, 1).map((t) => tf.reshape(t, [batch.size, batch.n]));
      const step = tf.mul(P!, tf.reshape(tf.div(0.9999, batch.L), [batch.size, 1]));
      const x = problem.prox(batch, tf.sub(y, tf.mul(step, g)), step);
      return { x, y: tf.add<tf.Tensor2D>(x, tf.mul(A!, tf.sub(x, state.x))) };
    });
  }
}

/** A meta-training small enough for tests: 6 instances of 5×8 LASSO, K = 4 in segments of 2. */
export const TINY_TRAINING: Partial<TrainOptions> = {
  batchSize: 6,
  iterations: 4,
  unroll: 2,
  learningRate: 1e-2,
  validateEvery: 5,
  validationSize: 4,
  validationIterations: 4,
};
export const tinyTrainInstances = async (_step: number, rng: Rng) => tinyLassoSet(6, 5, 8, 2, rng);
export const tinyValidationSet = () => tinyLassoSet(4, 5, 8, 2, new Rng(99));

/**
 * A platform on the cpu engine with the tiny plugins registered (problem 'lasso', optimizer
 * 'ista', dataset 'tiny'), runs and cache under `dir`; `register` as in bootPlatform.
 */
export async function tinyPlatform(dir: string, register?: BootOptions['register']): Promise<Platform> {
  const platform = await bootPlatform(
    { backend: 'cpu', searchFrom: [dir], runsDir: path.join(dir, 'runs'), cacheDir: path.join(dir, 'cache') },
    { ...(register ? { register } : {}) },
  );
  const source = { packageName: 'tiny', version: '0.0.0', root: dir };
  platform.registry.add('problem', { id: 'lasso', description: 'tiny LASSO', create: () => tinyLasso }, source);
  platform.registry.add('optimizer', { id: 'ista', description: 'tiny ISTA', create: () => tinyIsta }, source);
  platform.registry.add('dataset', { id: 'tiny', description: 'tiny LASSO', serves: ['lasso'], create: () => tinyDataset }, source);
  return platform;
}

/** A comparison of the tiny ISTA on 4 tiny LASSO instances for 5 iterations (for tinyPlatform). */
export function tinyComparison(name: string, seed: number): ComparisonSpec {
  return {
    name,
    problem: { id: 'lasso' },
    testDataset: { id: 'tiny' },
    optimizers: [{ id: 'ista' }],
    scale: 'smoke',
    seed,
    test: { count: 4, batchSize: 4, iterations: 5 },
  };
}
