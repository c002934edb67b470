import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, Rng, selectEngine, tf } from '@l2o/core';
import { DATASET_ID, PROBLEM_ID, register } from './plugin.js';

await selectEngine('cpu');
const registry = new PluginRegistry();
register(registry.registrarFor({ packageName: 'l2o-plugin-elastic-net', version: '0.1.0', root: '.' }));

const soft = (v, t) => Math.sign(v) * Math.max(Math.abs(v) - t, 0);
const array = (tensor) => Array.from(tensor.dataSync());

/** A set of `count` instances of m×n, A shared or not, from the given values. */
function instances({ count, m, n, lambda, A, b, sharedA }) {
  return { problem: PROBLEM_ID, count, m, n, lambda, sharedA, A: Float32Array.from(A), b: Float32Array.from(b), meta: {} };
}

/** Proximal gradient with step 1/L through the problem's own grad and prox, on the engine. */
function proxGradient(problem, batch, iterations) {
  let x = tf.zeros([batch.size, batch.n]);
  const step = tf.reshape(tf.div(1, batch.L), [batch.size, 1]);
  for (let k = 0; k < iterations; k++) {
    const next = tf.tidy(() => problem.prox(batch, tf.sub(x, tf.mul(step, problem.grad(batch, x))), step));
    x.dispose();
    x = next;
  }
  step.dispose();
  return x;
}

test('A = I: the minimiser is soft(b, λ₁)/(1 + λ₂), and F, KKT and the float64 solve agree with it', () => {
  const [n, lambda, lambda2] = [6, 0.3, 0.5];
  // The closed form from b as stored (float32), so that float64 can be held to rounding.
  const b = Array.from(Float32Array.from([1.5, -0.2, 0.31, -2, 0, 0.7]));
  const identity = Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));
  const set = instances({ count: 1, m: n, n, lambda, A: identity, b, sharedA: true });
  const problem = registry.get('problem', PROBLEM_ID).create({ lambda2 });
  const xStar = b.map((v) => soft(v, lambda) / (1 + lambda2));
  const fStar = xStar.reduce((s, x, j) => s + 0.5 * (x - b[j]) ** 2 + lambda * Math.abs(x) + 0.5 * lambda2 * x * x, 0);

  const batch = problem.toBatch(set);
  assert.ok(Math.abs(batch.L.dataSync()[0] - 1) < 1e-5, 'L = ‖I‖₂² = 1');
  const x = proxGradient(problem, batch, 50);
  array(x).forEach((v, j) => assert.ok(Math.abs(v - xStar[j]) < 1e-6, `x[${j}] = ${v}, closed form ${xStar[j]}`));
  const at = tf.tensor2d([xStar]);
  assert.ok(Math.abs(problem.objective(batch, at).dataSync()[0] - fStar) < 1e-5);
  assert.ok(problem.kktResidual(batch, at).dataSync()[0] < 1e-6);
  // Off the minimiser the KKT residual is not 0.
  assert.ok(problem.kktResidual(batch, tf.tensor2d([b])).dataSync()[0] > 0.1);

  const solved = problem.float64.solve(set, 0, new Float64Array(n), { tolerance: 1e-14, maxIterations: 10_000 });
  assert.ok(Math.abs(solved.f - fStar) <= 1e-14 * fStar, `float64 F* = ${solved.f}, closed form ${fStar}`);
  assert.ok(Math.abs(problem.float64.objective(set, 0, xStar) - fStar) <= 1e-15 * fStar);
  tf.dispose([x, at]);
  problem.disposeBatch(batch);
});

/** Cyclic coordinate descent in float64, an independent solver: x_j = soft(a_jᵀr_j, λ₁)/(‖a_j‖² + λ₂). */
function coordinateDescent(set, i, lambda2, sweeps) {
  const { m, n, A, b } = set;
  const a = (r, j) => A[i * m * n + r * n + j];
  const x = new Float64Array(n);
  const residual = Float64Array.from({ length: m }, (_, r) => b[i * m + r]); // b − Ax
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let j = 0; j < n; j++) {
      let rho = 0;
      let norm = 0;
      for (let r = 0; r < m; r++) {
        rho += a(r, j) * (residual[r] + a(r, j) * x[j]);
        norm += a(r, j) ** 2;
      }
      const next = soft(rho, set.lambda) / (norm + lambda2);
      for (let r = 0; r < m; r++) residual[r] -= a(r, j) * (next - x[j]);
      x[j] = next;
    }
  }
  return x;
}

test('random A: F* of the float64 solve and of FISTA-like iterations on the engine match coordinate descent', () => {
  const [count, m, n, lambda, lambda2] = [3, 8, 5, 0.1, 0.2];
  const rng = new Rng(3);
  const set = instances({ count, m, n, lambda, A: rng.normals(count * m * n), b: rng.normals(count * m), sharedA: false });
  const problem = registry.get('problem', PROBLEM_ID).create({ lambda2 });
  const batch = problem.toBatch(set);
  const x = proxGradient(problem, batch, 3000);
  const engineF = array(problem.objective(batch, x));
  for (let i = 0; i < count; i++) {
    const reference = problem.float64.objective(set, i, coordinateDescent(set, i, lambda2, 5000));
    const solved = problem.float64.solve(set, i, new Float64Array(n), { tolerance: 1e-13, maxIterations: 20_000 });
    assert.ok(Math.abs(solved.f - reference) <= 1e-12 * Math.abs(reference), `instance ${i}: ${solved.f} vs ${reference}`);
    assert.ok(Math.abs(engineF[i] - reference) <= 1e-5 * Math.abs(reference), `instance ${i} on the engine: ${engineF[i]} vs ${reference}`);
  }
  x.dispose();
  problem.disposeBatch(batch);
});

test('its dataset draws the same elastic-net instances from the same seed, and refuses other problems', async () => {
  const dataset = registry.get('dataset', DATASET_ID).create({});
  const problem = registry.get('problem', PROBLEM_ID).create({});
  assert.equal(problem.defaultDataset, DATASET_ID);
  const draw = (seed) => dataset.instances({ problem: PROBLEM_ID, split: 'test', count: 4, rng: new Rng(seed), options: { preset: 'toy' } }, {});
  const [a, again, other] = await Promise.all([draw(1), draw(1), draw(2)]);
  assert.equal(a.problem, PROBLEM_ID);
  assert.deepEqual([a.count, a.m, a.n, a.lambda], [4, 20, 40, 0.1]);
  problem.validate(a);
  assert.deepEqual(again.A, a.A);
  assert.notDeepEqual(other.A, a.A);
  await assert.rejects(dataset.instances({ problem: 'lasso', split: 'test', count: 1, rng: new Rng(1), options: {} }, {}), /does not serve problem 'lasso'/);
  assert.throws(() => registry.get('problem', PROBLEM_ID).create({ lamda2: 1 }), /lamda2/);
});
