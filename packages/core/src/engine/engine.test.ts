import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEngineRequest, selectEngine } from './engine.js';
import { tf } from '../tf.js';
import { Rng } from '../random/rng.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-engine-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('engine selection', () => {
  it('auto falls back past the native packages, which are not installed here', async () => {
    const report = await selectEngine('auto');
    expect(report.chosen).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const skipped = report.attempts.filter((a) => !a.ok).map((a) => a.engine);
    expect(skipped).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(report.attempts[0]!.reason).toMatch(/not installed \(npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
  });

  it('reports a native package that is installed but cannot load its library', async () => {
    // A real package on disk, resolved by Node, whose load fails the way a CUDA mismatch does.
    const pkg = path.join(temp, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"@tensorflow/tfjs-node-gpu","version":"4.22.0","main":"index.js"}');
    writeFileSync(path.join(pkg, 'index.js'), "throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');\n");
    const report = await selectEngine('auto', { resolveFrom: [temp] });
    expect(report.attempts[0]!.reason).toMatch(/could not load libcudart\.so\.11\.0/);
    await expect(selectEngine('tensorflow-gpu', { resolveFrom: [temp] })).rejects.toThrow(
      /Backend 'tensorflow-gpu' is not available: installed but its native library could not load libcudart/,
    );
  });

  it('fails an explicit request for a missing engine with the install command', async () => {
    await expect(selectEngine('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });

  it('selects cpu and wasm explicitly', async () => {
    expect((await selectEngine('cpu')).backend).toBe('cpu');
    expect((await selectEngine('wasm')).backend).toBe('wasm');
  });

  it('parses requests and rejects unknown ones', () => {
    expect(parseEngineRequest(undefined)).toBe('auto');
    expect(parseEngineRequest('wasm')).toBe('wasm');
    expect(() => parseEngineRequest('gpu')).toThrow(/Unknown backend 'gpu'/);
  });

  it('gives bit-identical instance tensors on wasm and cpu for one seed', async () => {
    const host = new Rng(123).normals(4 * 20 * 40);
    const read = async (engine: 'wasm' | 'cpu') => {
      await selectEngine(engine);
      const t = tf.tensor3d(host, [4, 20, 40]);
      const bytes = Buffer.from((await t.data()).buffer);
      t.dispose();
      return bytes;
    };
    expect((await read('wasm')).equals(await read('cpu'))).toBe(true);
  });
});
