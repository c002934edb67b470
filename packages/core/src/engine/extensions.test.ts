import { describe, expect, it } from 'vitest';
import { L2oError } from '../errors.js';
import { tf } from '../tf.js';
import { selectEngine } from './engine.js';
import { engineLabel, registerBackendExtension } from './extensions.js';

// A kernel package as core sees one: registered on import, consulted by selectEngine for its backend only.
describe('backend extensions', () => {
  it('are checked before their backend is made active, installed after it, and named in the engine label while active', async () => {
    const calls: string[] = [];
    let refuse = false;
    let active = false;
    registerBackendExtension({
      name: 'test-kernels',
      backend: 'wasm',
      checkSettings: () => void calls.push('settings'),
      beforeActivate: (loaded) => {
        calls.push(`before ${typeof loaded.version_wasm} on ${tf.getBackend()}`);
        if (refuse) throw new L2oError('refused by the extension.');
      },
      install: () => {
        calls.push(`install on ${tf.getBackend()}`);
        active = true;
      },
      active: () => active,
    });
    await selectEngine('cpu');
    expect(calls).toEqual(['settings']);
    expect(engineLabel('cpu')).toBe('cpu');
    await selectEngine('wasm');
    expect(calls).toEqual(['settings', 'settings', 'before string on cpu', 'install on wasm']);
    expect(engineLabel('wasm')).toBe('wasm+test-kernels');

    // A refusal is not a missing engine: no fallback from auto, and the backend is left as it was.
    await selectEngine('cpu');
    refuse = true;
    await expect(selectEngine('auto')).rejects.toThrow('refused by the extension.');
    expect(tf.getBackend()).toBe('cpu');
    refuse = false;
  });

  it('registered after its backend was activated, is checked and installed at once (a plugin imported late)', async () => {
    await selectEngine('wasm');
    const calls: string[] = [];
    registerBackendExtension({
      name: 'late-kernels',
      backend: 'wasm',
      beforeActivate: () => void calls.push('before'),
      install: () => void calls.push('install'),
      active: () => true,
    });
    expect(calls).toEqual(['before', 'install']);
    expect(engineLabel('wasm')).toContain('+late-kernels');
    // A second registration of the same name (the package imported twice) changes nothing.
    registerBackendExtension({ name: 'late-kernels', backend: 'wasm', install: () => void calls.push('again'), active: () => true });
    expect(calls).toEqual(['before', 'install']);
  });
});
