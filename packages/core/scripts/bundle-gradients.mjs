// Bundles tfjs-core's gradient registrations into dist/tfjs-gradients.js (imported by src/tf.ts).
//
// tfjs-core's Node build (dist/tf-core.node.js) registers no gradients: they are a separate
// side-effect module, dist/register_all_gradients.js, published as ES modules with extensionless
// imports that Node cannot load. The @tensorflow/tfjs umbrella bundles that module into its own
// Node build; without the umbrella, this does the same, once, at build time. The bundled code
// registers into the gradient registry every copy of tfjs-core 4.x shares (a global), and the
// pinned tfjs-core version makes the output fixed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

await build({
  entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
  outfile: path.join(root, 'dist/tfjs-gradients.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // seedrandom (reached through tfjs-core's ops) looks for node's crypto with require().
  banner: { js: "import { createRequire as __l2oCreateRequire } from 'node:module';\nconst require = __l2oCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
