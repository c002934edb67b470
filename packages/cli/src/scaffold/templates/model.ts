// The files of a new model package, written by `l2o plugin new` (the default kind): plain ES modules, no build.

/** A PA-family learned optimizer whose backbone is a one-layer GRU: plugin.js and its test. */
export function modelFiles(name: string, modelId: string): Record<string, string> {
  return {
    'plugin.js': `// ${modelId}: a learned optimizer of the L2O-PA family. Only the backbone is yours: it maps the
// per-coordinate input (∇f(y)ᵢ, yᵢ) and a recurrent state to features; the PA heads and update
// (P, A, prox step) are shared. Edit forward() and the options; keep the interface.
import { tf } from '@l2o/core';
import { GruCell, definePaModel, initialTensors, intOption } from '@l2o/models';

function backbone(weights, options) {
  const cell = new GruCell(weights.scope('rnn'), 2, options.hidden, '_l0');
  return {
    outputSize: options.hidden,
    stateKeys: ['h'],
    initState: (rows, init) => ({ h: initialTensors(rows, options.hidden, 1, init) }),
    forward(input, state) {
      const h = cell.apply(input, state.h[0]);
      return { output: h, state: { h: [h] } };
    },
  };
}

export const model = definePaModel({
  id: '${modelId}',
  description: '${modelId}: a one-layer GRU backbone with the PA update',
  options: { hidden: intOption(16, 'hidden width', { min: 1 }) },
  backbone,
});

export function register(registrar) {
  registrar.model(model);
}
`,
    'plugin.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry, Rng, selectEngine, tf } from '@l2o/core';
import { register } from './plugin.js';

test('${modelId} registers, has the closed-form parameter count, and takes a finite step', async () => {
  await selectEngine('cpu');
  const registry = new PluginRegistry();
  register(registry.registrarFor({ packageName: '${name}', version: '0.1.0', root: '.' }));
  const model = registry.get('model', '${modelId}').create({});
  const H = 16;
  const gru = 3 * H * (2 + H) + 6 * H;
  const heads = H * H + H + 2 * (H + 1);
  assert.equal(model.parameterCount(), gru + heads);

  // A tiny LASSO instance by hand: F(x) = ½‖Ax − b‖² + λ‖x‖₁.
  const rng = new Rng(1);
  const [m, n] = [4, 6];
  const A = tf.tensor3d(rng.normals(m * n), [1, m, n]);
  const b = tf.tensor2d(rng.normals(m), [1, m]);
  const problem = {
    grad: (_batch, x) => tf.squeeze(tf.matMul(A, tf.sub(tf.matMul(A, tf.expandDims(x, 2)), tf.expandDims(b, 2)), true, false), [2]),
    prox: (batch, v, step) => tf.mul(tf.sign(v), tf.relu(tf.sub(tf.abs(v), tf.mul(batch.lambda, step)))),
  };
  const batch = { size: 1, n, m, lambda: 0.1, L: tf.tensor1d([10]) };
  const state = model.init(problem, batch);
  const next = model.step(problem, batch, state, { k: 0, training: false });
  assert.ok(Array.from(next.y.dataSync()).every(Number.isFinite));
  model.dispose();
});
`,
  };
}
