// Bundles a module for browsers with esbuild and fails if anything it reaches is a Node built-in:
// the check that the dashboard page (and the model, problem and baseline code it runs) stays
// browser-safe. esbuild itself refuses `node:` imports for the browser platform; a bare built-in
// name (fs, path, …) that a package does not map away in its "browser" field is caught here.
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const BUILTINS = new Set(builtinModules);

export async function bundleForBrowser(entry, outfile, options = {}) {
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      metafile: true,
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      ...options,
    });
  } catch (e) {
    const first = e.errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new Error(`${first?.text ?? e.message}${where}: a browser bundle cannot import Node built-ins; keep Node-only code out of its entry points.`, {
      cause: e,
    });
  }
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    for (const imp of input.imports) {
      if (imp.external && (imp.path.startsWith('node:') || BUILTINS.has(imp.path))) {
        throw new Error(`${file} imports the Node built-in '${imp.path}': a browser bundle cannot; keep Node-only code out of its entry points.`);
      }
    }
  }
  return result;
}
