import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { writeDirAtomic } from '../io/atomic.js';
import { writeFileSync } from 'node:fs';

/** The installed versions of @l2o/core and @l2o/models the new package is written against. */
export interface ScaffoldVersions {
  /** An exact version, e.g. `0.1.0` (not a range). */
  core: string;
  models: string;
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function exactVersion(pkg: string, version: string): string {
  if (!EXACT_VERSION.test(version)) {
    throw new Error(`The scaffold needs the exact installed version of ${pkg}, not '${version}'.`);
  }
  return version;
}

/**
 * Files of a new third-party learned-optimizer package: a PA-family model whose backbone is a
 * one-layer GRU to edit, a test on node's own runner, and a README. Plain ES modules: no build.
 * The ranges are derived here, once, from the exact installed versions.
 */
export function pluginTemplate(name: string, modelId: string, versions: ScaffoldVersions): Record<string, string> {
  const core = exactVersion('@l2o/core', versions.core);
  const models = exactVersion('@l2o/models', versions.models);
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        description: `A learned optimizer for l2o: ${modelId}.`,
        license: 'MIT',
        type: 'module',
        main: './plugin.js',
        files: ['plugin.js', 'README.md'],
        l2o: { plugin: './plugin.js' },
        scripts: { test: 'node --test' },
        // A caret range: the plugin shares the host's core and models (one tfjs engine, one registry).
        peerDependencies: { '@l2o/core': `^${core}`, '@l2o/models': `^${models}` },
        // What its own test runs against, pinned: `npm install && npm test` in a fresh checkout.
        devDependencies: { '@l2o/core': core, '@l2o/models': models },
      },
      null,
      2,
    )}\n`,
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
    'README.md': `# ${name}

A learned optimizer for [l2o](https://www.npmjs.com/package/@l2o/cli): \`${modelId}\`, a backbone with
the shared L2O-PA heads and update.

\`\`\`sh
npm install && npm test                                 # node --test, against @l2o/core ${core}
\`\`\`

Install it next to \`@l2o/cli\` (publish it, or \`npm pack\` here and \`npm install <the .tgz>\` there) and
l2o finds it with no configuration; or pass \`--plugin <this folder>\`:

\`\`\`sh
l2o models                                              # lists ${modelId} with its parameter count
l2o run --model ${modelId} --problem lasso --scale quick   # trains it and compares it with ISTA and FISTA
\`\`\`

Edit \`forward()\` in plugin.js; the contracts are in @l2o/core (see docs/plugins.md of l2o).
`,
  };
}

/** The model id a scaffolded package registers: its name without scope and `l2o-plugin-` prefix. */
export function pluginModelId(name: string): string {
  return name
    .replace(/^@[^/]+\//, '')
    .replace(/^l2o-plugin-/, '')
    .replace(/[^a-z0-9-]/g, '-');
}

/** Writes a new plugin package into `dir` (which must not exist), atomically. */
export async function scaffoldPlugin(dir: string, name: string, versions: ScaffoldVersions): Promise<string[]> {
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) {
    throw new UsageError(`'${name}' is not a valid npm package name.`, 'Use lower-case letters, digits and dashes, e.g. l2o-plugin-mygru.');
  }
  if (existsSync(dir)) throw new UsageError(`${dir} already exists.`, 'Choose a new folder.');
  const files = pluginTemplate(name, pluginModelId(name), versions);
  await writeDirAtomic(path.resolve(dir), (tmp) => {
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(tmp, file), content);
  });
  return Object.keys(files);
}
