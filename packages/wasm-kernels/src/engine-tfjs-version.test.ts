import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { engineLabel, L2oError, probeEngines, selectEngine, tf } from '@l2o/core';
import { l2oKernelsActive } from './wasm-kernel.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

// A tfjs-backend-wasm of another version, resolved before the installed one (as a user's own
// project would): the refusal comes before it is used, so it need not be a working backend.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-tfjs-version-'));
const pkg = path.join(temp, 'node_modules', '@tensorflow', 'tfjs-backend-wasm');
mkdirSync(pkg, { recursive: true });
writeFileSync(path.join(pkg, 'package.json'), '{"name":"@tensorflow/tfjs-backend-wasm","version":"4.23.0","main":"index.js"}');
writeFileSync(path.join(pkg, 'index.js'), "exports.version_wasm = '4.23.0';\n");
const other = { resolveFrom: [temp] };
const refusal =
  "The platform's WASM kernels were written for @tensorflow/tfjs-backend-wasm 4.22.0 and this process runs 4.23.0. " +
  "Install @tensorflow/tfjs-backend-wasm@4.22.0, or run with L2O_KERNELS=tfjs to use tfjs's own kernels.";

afterAll(() => rmSync(temp, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.L2O_KERNELS;
});

describe('the WASM engine on a tfjs other than the kernels were written for', () => {
  it('is refused in one line, asked for or reached by auto (no fallback), before the backend changes', async () => {
    await selectEngine('cpu');
    for (const request of ['wasm', 'auto'] as const) {
      const error = await selectEngine(request, other).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(L2oError);
      expect((error as L2oError).oneLine()).toBe(refusal);
      expect((error as L2oError).exitCode).toBe(1);
      expect(tf.getBackend()).toBe('cpu');
    }
    const wasm = (await probeEngines(other)).find((a) => a.engine === 'wasm')!;
    expect(wasm).toEqual({ engine: 'wasm', ok: false, reason: refusal });
  });

  it('runs with L2O_KERNELS=tfjs on tfjs kernels only, for the rest of the process', async () => {
    await selectEngine('wasm'); // the real backend, registered
    expect(engineLabel('wasm')).toBe('wasm+l2o-kernels');
    process.env.L2O_KERNELS = 'tfjs';
    expect((await selectEngine('wasm', other)).backend).toBe('wasm');
    delete process.env.L2O_KERNELS;
    expect(l2oKernelsActive()).toBe(false);
    expect(engineLabel('wasm')).toBe('wasm');
  });
});
