// Builds the dashboard's page into dist/web: src/web/main.ts bundled for browsers (with the live
// page's model, problem and baseline code), index.html, app.css and tfjs's WASM binaries. The
// bundle fails if the page reaches a Node built-in (scripts/browser-bundle.mjs).
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from './browser-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/web');
mkdirSync(out, { recursive: true });
const require = createRequire(path.join(root, 'package.json'));

try {
  await bundleForBrowser(path.join(root, 'src/web/main.ts'), path.join(out, 'app.js'));
} catch (e) {
  console.error(`Error: ${e.message}`);
  process.exit(1);
}
for (const file of ['index.html', 'app.css']) copyFileSync(path.join(root, 'src/web', file), path.join(out, file));
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(path.join(wasmDir, file), path.join(out, file));
}
console.log(`dashboard page: dist/web/app.js (${(statSync(path.join(out, 'app.js')).size / 1e6).toFixed(1)} MB)`);
