// The files of a new dataset package, written by `l2o plugin new --kind dataset`: plain ES modules, no build.
// Kept as the code it writes (tested by `npm test` in the generated package, see plugins.test.ts).

/** A seeded generator of LASSO instances with correlated columns: plugin.js and its test, for the package `name` registering `id`. */
export function datasetFiles(name: string, id: string): Record<string, string> {
  return {
    'plugin.js': String.raw`// ${id}: a dataset for l2o, a seeded generator of instances of an existing problem (LASSO,
// F(x) = ½‖Ax − b‖² + λ‖x‖₁): here with correlated columns, the case where ℓ1 recovery is hard.
// Every draw comes from request.rng, so a seed fixes the instances on every engine. To make it
// yours, change the options and the generator; keep the interface (the contracts are in @l2o/core).
import { checkServes, enumOption, intOption, numberOption, resolveOptions } from '@l2o/core';

export const DATASET_ID = '${id}';
export const SERVES = ['lasso'];

const SIZES = { paper: { m: 250, n: 500, s: 50 }, toy: { m: 20, n: 40, s: 5 } };

// Generators receive the run's scale as 'preset' (toy for smoke and quick runs, paper otherwise).
export const options = {
  preset: enumOption('paper', ['paper', 'toy'], "sizes: 'paper' (250×500, s 50) or 'toy' (20×40, s 5)", { acceptStrings: true }),
  m: intOption(undefined, 'rows of A (observations)', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  n: intOption(undefined, 'columns of A (coordinates of x)', { min: 1, acceptStrings: true, defaultText: 'from preset' }),
  s: intOption(undefined, 'non-zeros of x*', { min: 0, acceptStrings: true, defaultText: 'from preset' }),
  lambda: numberOption(0.1, 'λ of the ℓ1 term', { min: 0, acceptStrings: true }),
  rho: numberOption(0.5, 'correlation of neighbouring columns of A', { min: 0, max: 1, exclusiveMax: true, acceptStrings: true }),
  noise: numberOption(0.01, 'standard deviation of the noise added to b = Ax*', { min: 0, acceptStrings: true }),
};

/** Instances with A's columns an AR(1) sequence (correlation rho), normalised to unit length, s-sparse x*, b = Ax* + noise. */
export function generate(o, count, rng) {
  const size = SIZES[o.preset];
  const [m, n] = [o.m ?? size.m, o.n ?? size.n];
  const s = Math.min(o.s ?? size.s, n);
  const A = new Float32Array(count * m * n);
  const b = new Float32Array(count * m);
  const xTrue = new Float32Array(count * n);
  const column = new Float64Array(m * n);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < n; j++) {
      for (let r = 0; r < m; r++) {
        const fresh = rng.normal();
        column[r * n + j] = j === 0 ? fresh : o.rho * column[r * n + j - 1] + Math.sqrt(1 - o.rho * o.rho) * fresh;
      }
    }
    for (let j = 0; j < n; j++) {
      let sq = 0;
      for (let r = 0; r < m; r++) sq += column[r * n + j] ** 2;
      const scale = sq > 0 ? 1 / Math.sqrt(sq) : 1;
      for (let r = 0; r < m; r++) A[i * m * n + r * n + j] = column[r * n + j] * scale;
    }
    for (const j of rng.sample(n, s)) xTrue[i * n + j] = rng.normal();
    for (let r = 0; r < m; r++) {
      let z = 0;
      for (let j = 0; j < n; j++) z += A[i * m * n + r * n + j] * xTrue[i * n + j];
      b[i * m + r] = z + o.noise * rng.normal();
    }
  }
  return { count, m, n, s, A, b, xTrue };
}

export function createDataset(createOptions = {}) {
  const owner = { kind: 'dataset', id: DATASET_ID };
  resolveOptions(owner, options, createOptions);
  const dataset = {
    id: DATASET_ID,
    serves: SERVES,
    fixed: false,
    async instances(request) {
      checkServes(dataset, request.problem);
      const o = resolveOptions(owner, options, { ...createOptions, ...request.options });
      const { count, m, n, s, A, b, xTrue } = generate(o, request.count, request.rng);
      return { problem: request.problem, count, m, n, lambda: o.lambda, sharedA: false, A, b, xTrue, meta: { dataset: DATASET_ID, ...o, m, n, s, count } };
    },
    async describe() {
      return { id: DATASET_ID, serves: SERVES, description: 'LASSO with correlated columns', needsFiles: false, present: true };
    },
  };
  return dataset;
}

export function register(registrar) {
  registrar.dataset({
    id: DATASET_ID,
    description: 'LASSO instances with correlated columns (AR(1), rho) and noise',
    serves: SERVES,
    options,
    create: (o) => createDataset(o),
  });
}
`,
    'plugin.test.js': String.raw`import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, Rng } from '@l2o/core';
import { DATASET_ID, register } from './plugin.js';

const registry = new PluginRegistry();
register(registry.registrarFor({ packageName: '${name}', version: '0.1.0', root: '.' }));
const dataset = registry.get('dataset', DATASET_ID).create({});
const draw = (seed, options = {}) => dataset.instances({ problem: 'lasso', split: 'test', count: 3, rng: new Rng(seed), options: { preset: 'toy', ...options } }, {});

test('the same seed gives the same instances, another seed others', async () => {
  const [a, again, other] = await Promise.all([draw(1), draw(1), draw(2)]);
  assert.deepEqual([a.problem, a.count, a.m, a.n, a.lambda], ['lasso', 3, 20, 40, 0.1]);
  assert.equal(a.A.length, 3 * 20 * 40);
  assert.deepEqual(again.A, a.A);
  assert.deepEqual(again.b, a.b);
  assert.notDeepEqual(other.A, a.A);
});

test('unit columns, s-sparse x*, and b = Ax* without noise', async () => {
  const set = await draw(3, { noise: 0, s: 4 });
  const { m, n, A, b, xTrue } = set;
  for (let i = 0; i < set.count; i++) {
    assert.equal(Array.from(xTrue.subarray(i * n, (i + 1) * n)).filter((v) => v !== 0).length, 4);
    for (let j = 0; j < n; j++) {
      let sq = 0;
      for (let r = 0; r < m; r++) sq += A[i * m * n + r * n + j] ** 2;
      assert.ok(Math.abs(sq - 1) < 1e-5, 'column ' + j + ' has squared norm ' + sq);
    }
    for (let r = 0; r < m; r++) {
      let z = 0;
      for (let j = 0; j < n; j++) z += A[i * m * n + r * n + j] * xTrue[i * n + j];
      assert.ok(Math.abs(z - b[i * m + r]) < 1e-5);
    }
  }
});

test('neighbouring columns are correlated about rho, and bad requests are refused', async () => {
  const set = await draw(4, { m: 2000, n: 2, rho: 0.8 });
  let inner = 0;
  for (let r = 0; r < set.m; r++) inner += set.A[r * 2] * set.A[r * 2 + 1];
  assert.ok(Math.abs(inner - 0.8) < 0.05, 'correlation ' + inner);
  await assert.rejects(dataset.instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(1), options: {} }, {}), /does not serve problem 'logistic-l1'/);
  await assert.rejects(draw(1, { rh: 0.5 }), /rh/);
});
`,
  };
}
