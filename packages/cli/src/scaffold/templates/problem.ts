// The files of a new problem package, written by `l2o plugin new --kind problem`: plain ES modules, no build.
// Kept as the code it writes (tested by `npm test` in the generated package, see plugins.test.ts).

/** A composite problem (Huber regression with an ℓ1 penalty) and a dataset of its instances: plugin.js and its test, for the package `name` registering `id`. */
export function problemFiles(name: string, id: string): Record<string, string> {
  return {
    'plugin.js': String.raw`// ${id}: a composite problem for l2o, F(x) = f(x) + r(x) batched over instances, with a dataset
// of its instances. Here robust regression with an ℓ1 penalty: f(x) = Σᵣ huber_δ((Ax − b)ᵣ), a
// smooth loss that grows only linearly on outliers, and r = λ‖x‖₁. To make it yours, change f and
// grad (keep L a Lipschitz constant of grad), prox/objective/subgradient/kktResidual for r, and the
// generator; keep the interface (the contracts are in @l2o/core).
import { L2oError, Rng, checkServes, enumOption, intOption, numberOption, resolveOptions, tf } from '@l2o/core';

export const PROBLEM_ID = '${id}';
export const DATASET_ID = '${id}-random';

export const problemOptions = {
  delta: numberOption(1, 'δ of the Huber loss: quadratic for residuals up to δ, linear beyond', { min: 0, exclusiveMin: true, acceptStrings: true }),
};

/** A x per instance, [B, m]: A is [B, m, n], or [m, n] shared by the batch. */
function applyA(batch, x) {
  return batch.sharedA ? tf.matMul(x, batch.A, false, true) : tf.squeeze(tf.matMul(batch.A, tf.expandDims(x, 2)), [2]);
}

/** Aᵀ r per instance, [B, n]. */
function applyAt(batch, r) {
  return batch.sharedA ? tf.matMul(r, batch.A) : tf.squeeze(tf.matMul(batch.A, tf.expandDims(r, 2), true, false), [2]);
}

/** ‖A‖₂² per instance, [B], by power iteration on AᵀA from a fixed seeded start (the same on every engine). */
function squaredNorm(batch, iterations = 100) {
  return tf.tidy(() => {
    let v = tf.tile(tf.tensor2d(new Rng('power-iteration').normals(batch.n), [1, batch.n]), [batch.size, 1]);
    let estimate = tf.zeros([batch.size]);
    for (let i = 0; i < iterations; i++) {
      const unit = tf.div(v, tf.maximum(tf.norm(v, 'euclidean', 1, true), 1e-30));
      v = applyAt(batch, applyA(batch, unit));
      estimate = tf.sum(tf.mul(unit, v), 1); // the Rayleigh quotient
    }
    return estimate;
  });
}

function validate(set) {
  const where = PROBLEM_ID + ' instances';
  if (set.problem !== PROBLEM_ID) throw new L2oError("The instances are for '" + set.problem + "', not '" + PROBLEM_ID + "'.");
  for (const key of ['count', 'm', 'n']) {
    if (!Number.isInteger(set[key]) || set[key] <= 0) throw new L2oError(where + ': ' + key + ' must be a positive integer, got ' + set[key] + '.');
  }
  if (!(set.lambda >= 0) || !Number.isFinite(set.lambda)) throw new L2oError(where + ': λ must be a finite number ≥ 0, got ' + set.lambda + '.');
  const aSize = (set.sharedA ? 1 : set.count) * set.m * set.n;
  if (set.A.length !== aSize) throw new L2oError(where + ': A has ' + set.A.length + ' values, expected ' + aSize + '.');
  if (set.b.length !== set.count * set.m) throw new L2oError(where + ': b has ' + set.b.length + ' values, expected ' + set.count * set.m + '.');
  if (!set.A.every(Number.isFinite) || !set.b.every(Number.isFinite)) throw new L2oError(where + ': A or b holds a non-finite value.');
}

export class Problem {
  id = PROBLEM_ID;
  /** A provably convergent method run to a KKT tolerance gives F* of the test instances. */
  referenceSolver = { id: 'fista' };
  defaultDataset = DATASET_ID;

  constructor(options = {}) {
    this.options = resolveOptions({ kind: 'problem', id: PROBLEM_ID }, problemOptions, options);
  }

  validate(set) {
    validate(set);
  }

  toBatch(set) {
    this.validate(set);
    const A = set.sharedA ? tf.tensor2d(set.A, [set.m, set.n]) : tf.tensor3d(set.A, [set.count, set.m, set.n]);
    const b = tf.tensor2d(set.b, [set.count, set.m]);
    const batch = { problem: this.id, size: set.count, m: set.m, n: set.n, lambda: set.lambda, sharedA: set.sharedA, A, b };
    // huber'' ≤ 1, so L = ‖A‖₂² (floored: a zero A would give an infinite step 1/L).
    const normSq = squaredNorm(batch);
    batch.L = tf.maximum(normSq, 1e-12);
    normSq.dispose();
    return batch;
  }

  disposeBatch(batch) {
    tf.dispose([batch.A, batch.b, batch.L]);
  }

  f(batch, x) {
    const delta = this.options.delta;
    return tf.tidy(() => {
      const z = tf.abs(tf.sub(applyA(batch, x), batch.b));
      const huber = tf.where(tf.lessEqual(z, delta), tf.mul(0.5, tf.square(z)), tf.mul(delta, tf.sub(z, 0.5 * delta)));
      return tf.sum(huber, 1);
    });
  }

  grad(batch, x) {
    return tf.tidy(() => applyAt(batch, tf.clipByValue(tf.sub(applyA(batch, x), batch.b), -this.options.delta, this.options.delta)));
  }

  /** prox of step·λ‖·‖₁ at v (step per coordinate): the soft threshold. */
  prox(batch, v, step) {
    return tf.tidy(() => tf.mul(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(batch.lambda, step)))));
  }

  objective(batch, x) {
    return tf.tidy(() => tf.add(this.f(batch, x), tf.mul(batch.lambda, tf.sum(tf.abs(x), 1))));
  }

  subgradient(batch, x) {
    return tf.tidy(() => tf.add(this.grad(batch, x), tf.mul(batch.lambda, tf.sign(x))));
  }

  /** The largest violation of 0 ∈ ∇f(x) + λ∂‖x‖₁ over the coordinates, [B]. */
  kktResidual(batch, x) {
    return tf.tidy(() => {
      const g = this.grad(batch, x);
      const onSupport = tf.abs(tf.add(g, tf.mul(batch.lambda, tf.sign(x))));
      const offSupport = tf.relu(tf.sub(tf.abs(g), batch.lambda));
      return tf.max(tf.where(tf.notEqual(x, 0), onSupport, offSupport), 1);
    });
  }
}

const SIZES = { paper: { m: 250, n: 500, s: 50 }, toy: { m: 20, n: 40, s: 5 } };

// Generators receive the run's scale as 'preset' (toy for smoke and quick runs, paper otherwise).
export const datasetOptions = {
  preset: enumOption('paper', ['paper', 'toy'], "sizes: 'paper' (250×500, s 50) or 'toy' (20×40, s 5)", { acceptStrings: true }),
  m: intOption(undefined, 'rows of A', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  n: intOption(undefined, 'columns of A', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  s: intOption(undefined, 'non-zeros of x*', { min: 0, acceptStrings: true, defaultText: 'from preset' }),
  lambda: numberOption(0.1, 'λ of the ℓ1 term', { min: 0, acceptStrings: true }),
  outliers: numberOption(0.1, 'fraction of the observations hit by a large error', { min: 0, max: 1, acceptStrings: true }),
};

/**
 * Instances from the request's generator only (a seed fixes them on every engine): A with N(0, 1/m)
 * entries, an s-sparse x*, b = Ax* plus N(0, 10²) errors on a fraction of the observations.
 */
export function createDataset(createOptions = {}) {
  const owner = { kind: 'dataset', id: DATASET_ID };
  resolveOptions(owner, datasetOptions, createOptions);
  const dataset = {
    id: DATASET_ID,
    serves: [PROBLEM_ID],
    fixed: false,
    async instances(request) {
      checkServes(dataset, request.problem);
      const o = resolveOptions(owner, datasetOptions, { ...createOptions, ...request.options });
      const size = SIZES[o.preset];
      const [m, n, s] = [o.m ?? size.m, o.n ?? size.n, Math.min(o.s ?? size.s, o.n ?? size.n)];
      const { rng, count } = request;
      const A = new Float32Array(count * m * n);
      const b = new Float32Array(count * m);
      const xTrue = new Float32Array(count * n);
      for (let i = 0; i < count; i++) {
        for (let k = 0; k < m * n; k++) A[i * m * n + k] = rng.normal() / Math.sqrt(m);
        for (const j of rng.sample(n, s)) xTrue[i * n + j] = rng.normal();
        for (let r = 0; r < m; r++) {
          let z = 0;
          for (let j = 0; j < n; j++) z += A[i * m * n + r * n + j] * xTrue[i * n + j];
          const outlier = rng.uniform() < o.outliers;
          b[i * m + r] = z + (outlier ? 10 * rng.normal() : 0);
        }
      }
      return { problem: PROBLEM_ID, count, m, n, lambda: o.lambda, sharedA: false, A, b, xTrue, meta: { dataset: DATASET_ID, ...o, m, n, s, count } };
    },
    async describe() {
      return { id: DATASET_ID, serves: [PROBLEM_ID], description: 'sparse regression with outliers', needsFiles: false, present: true };
    },
  };
  return dataset;
}

export function register(registrar) {
  registrar.problem({
    id: PROBLEM_ID,
    description: '${id}: Σ huber_δ(Ax − b) + λ‖x‖₁',
    options: problemOptions,
    create: (options) => new Problem(options),
  });
  registrar.dataset({
    id: DATASET_ID,
    description: 'sparse regression instances with outliers, for ${id}',
    serves: [PROBLEM_ID],
    options: datasetOptions,
    create: (options) => createDataset(options),
  });
}
`,
    'plugin.test.js': String.raw`import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, Rng, selectEngine, tf } from '@l2o/core';
import { DATASET_ID, PROBLEM_ID, register } from './plugin.js';

await selectEngine('cpu');
const registry = new PluginRegistry();
register(registry.registrarFor({ packageName: '${name}', version: '0.1.0', root: '.' }));

test('A = I and λ < δ: proximal gradient through grad and prox reaches the closed form soft(b, λ)', () => {
  const [n, lambda] = [5, 0.2];
  const b = Array.from(Float32Array.from([1.5, -0.1, 0.6, -3, 0]));
  const A = Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
  const set = { problem: PROBLEM_ID, count: 1, m: n, n, lambda, sharedA: true, A: Float32Array.from(A), b: Float32Array.from(b), meta: {} };
  const problem = registry.get('problem', PROBLEM_ID).create({ delta: 1 });
  const batch = problem.toBatch(set);
  assert.ok(Math.abs(batch.L.dataSync()[0] - 1) < 1e-4, 'L = ‖I‖₂² = 1');
  let x = tf.zeros([1, n]);
  for (let k = 0; k < 200; k++) {
    const next = tf.tidy(() => problem.prox(batch, tf.sub(x, problem.grad(batch, x)), tf.scalar(1)));
    x.dispose();
    x = next;
  }
  const xStar = b.map((v) => Math.sign(v) * Math.max(Math.abs(v) - lambda, 0));
  Array.from(x.dataSync()).forEach((v, j) => assert.ok(Math.abs(v - xStar[j]) < 1e-5, 'x[' + j + '] = ' + v + ', expected ' + xStar[j]));
  assert.ok(problem.kktResidual(batch, x).dataSync()[0] < 1e-5);
  // F at the minimiser is below F at a nearby point.
  const nearby = tf.add(x, 0.01);
  assert.ok(problem.objective(batch, x).dataSync()[0] < problem.objective(batch, nearby).dataSync()[0]);
  tf.dispose([x, nearby]);
  problem.disposeBatch(batch);
});

test('its dataset draws valid instances, the same from the same seed', async () => {
  const dataset = registry.get('dataset', DATASET_ID).create({});
  const problem = registry.get('problem', PROBLEM_ID).create({});
  assert.equal(problem.defaultDataset, DATASET_ID);
  const draw = (seed) => dataset.instances({ problem: PROBLEM_ID, split: 'test', count: 3, rng: new Rng(seed), options: { preset: 'toy' } }, {});
  const [a, again, other] = await Promise.all([draw(1), draw(1), draw(2)]);
  assert.deepEqual([a.count, a.m, a.n], [3, 20, 40]);
  problem.validate(a);
  assert.deepEqual(again.b, a.b);
  assert.notDeepEqual(other.b, a.b);
  const batch = problem.toBatch(a);
  assert.ok(Array.from(problem.objective(batch, tf.zeros([3, 40])).dataSync()).every((v) => v > 0));
  problem.disposeBatch(batch);
});
`,
  };
}
