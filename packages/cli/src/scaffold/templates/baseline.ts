// The files of a new baseline package, written by `l2o plugin new --kind baseline`: plain ES modules, no build.
// Kept as the code it writes (tested by `npm test` in the generated package, see plugins.test.ts).

/** A hand-designed optimizer: ISTA with a fixed step: plugin.js and its test, for the package `name` registering `id`. */
export function baselineFiles(name: string, id: string): Record<string, string> {
  return {
    'plugin.js': String.raw`// ${id}: a hand-designed optimizer (a baseline) for l2o. Here ISTA with a fixed step t, the same
// for every instance: x ← prox_{t·r}(x − t∇f(x)). It converges when t < 2/L, diverges beyond.
// init and step are pure: they return new tensors (inside tf.tidy) and never dispose their inputs.
// To make it yours, change the options, init and step; keep the interface (contracts in @l2o/core).
import { L2oError, numberOption, resolveOptions, tf } from '@l2o/core';

export const OPTIMIZER_ID = '${id}';

export const options = {
  step: numberOption(0.1, 'the fixed step t (converges for t < 2/L)', { min: 0, exclusiveMin: true, acceptStrings: true }),
};

export class FixedStepIsta {
  id = OPTIMIZER_ID;

  constructor(given = {}) {
    this.options = resolveOptions({ kind: 'optimizer', id: OPTIMIZER_ID }, options, given);
  }

  /** The state holds the iterate x: a copy of x0 (the caller keeps x0), or zeros. */
  init(_problem, batch, x0) {
    if (!x0) return { x: tf.zeros([batch.size, batch.n]) };
    if (x0.shape[0] !== batch.size || x0.shape[1] !== batch.n) {
      throw new L2oError('The starting point x0 has shape [' + x0.shape.join(', ') + '], but the batch needs [' + batch.size + ', ' + batch.n + '].');
    }
    return { x: tf.clone(x0) };
  }

  step(problem, batch, state) {
    return tf.tidy(() => {
      const t = tf.scalar(this.options.step);
      return { x: problem.prox(batch, tf.sub(state.x, tf.mul(t, problem.grad(batch, state.x))), t) };
    });
  }
}

export function register(registrar) {
  registrar.optimizer({
    id: OPTIMIZER_ID,
    description: 'ISTA with a fixed step',
    options,
    create: (o) => new FixedStepIsta(o),
  });
}
`,
    'plugin.test.js': String.raw`import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, selectEngine, tf } from '@l2o/core';
import { OPTIMIZER_ID, register } from './plugin.js';

await selectEngine('cpu');
const registry = new PluginRegistry();
register(registry.registrarFor({ packageName: '${name}', version: '0.1.0', root: '.' }));

// A LASSO instance with A = I by hand, F(x) = ½‖x − b‖² + λ‖x‖₁: its minimiser is soft(b, λ).
const lambda = 0.3;
const b = tf.tensor2d([[1.5, -0.2, 0.31, -2, 0]]);
const problem = {
  grad: (_batch, x) => tf.sub(x, b),
  prox: (batch, v, step) => tf.mul(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(batch.lambda, step)))),
};
const batch = { size: 1, n: 5, m: 5, lambda, L: tf.tensor1d([1]) };

function run(optimizer, iterations) {
  let state = optimizer.init(problem, batch);
  for (let k = 0; k < iterations; k++) {
    const next = optimizer.step(problem, batch, state, { k, training: false });
    tf.dispose(state);
    state = next;
  }
  return Array.from(state.x.dataSync());
}

const expected = [1.2, 0, 0.01, -1.7, 0];

test('with t < 2/L it converges to the minimiser soft(b, λ)', () => {
  const x = run(registry.get('optimizer', OPTIMIZER_ID).create({ step: 0.5 }), 100);
  x.forEach((v, j) => assert.ok(Math.abs(v - expected[j]) < 1e-5, 'x[' + j + '] = ' + v + ', expected ' + expected[j]));
});

test('the step is fixed: with t > 2/L it does not converge', () => {
  const x = run(registry.get('optimizer', OPTIMIZER_ID).create({ step: 3 }), 30);
  const error = Math.max(...x.map((v, j) => Math.abs(v - expected[j])));
  assert.ok(error > 1, 'still ' + error + ' from the minimiser');
});

test('init copies x0 and steps never dispose their inputs', () => {
  const optimizer = registry.get('optimizer', OPTIMIZER_ID).create({});
  const x0 = tf.ones([1, 5]);
  const state = optimizer.init(problem, batch, x0);
  assert.notEqual(state.x, x0);
  const next = optimizer.step(problem, batch, state, { k: 0, training: false });
  assert.equal(state.x.isDisposed, false);
  assert.equal(x0.isDisposed, false);
  tf.dispose([x0, state.x, next.x]);
  assert.throws(() => registry.get('optimizer', OPTIMIZER_ID).create({ step: 0 }), /step/);
});
`,
  };
}
