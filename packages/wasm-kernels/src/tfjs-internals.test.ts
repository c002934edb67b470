import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { L2oError, tf } from '@l2o/core';
import { tfjsVersionMismatch } from './tfjs-internals.js';

const pinned = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
const running = { '@tensorflow/tfjs-core': tf.version_core, '@tensorflow/tfjs-backend-wasm': version_wasm };

describe("the platform's kernels and the running tfjs", () => {
  it("pass on the tfjs installed here, which is package.json's pins", () => {
    expect(running).toEqual({
      '@tensorflow/tfjs-core': pinned['@tensorflow/tfjs-core'],
      '@tensorflow/tfjs-backend-wasm': pinned['@tensorflow/tfjs-backend-wasm'],
    });
    expect(tfjsVersionMismatch(running)).toBeNull();
  });

  it('refuse another tfjs-core in one line naming both versions and the two fixes', () => {
    const refusal = tfjsVersionMismatch(
      { ...running, '@tensorflow/tfjs-core': '4.23.0' },
      { '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' },
    );
    expect(refusal).toBeInstanceOf(L2oError);
    expect(refusal!.exitCode).toBe(1);
    expect(refusal!.oneLine()).toBe(
      "The platform's WASM kernels were written for @tensorflow/tfjs-core 4.22.0 and this process runs 4.23.0. " +
        "Install @tensorflow/tfjs-core@4.22.0, or run with L2O_KERNELS=tfjs to use tfjs's own kernels.",
    );
  });

  it('refuse another tfjs-backend-wasm, or one that says no version, naming each that differs', () => {
    const writtenFor = { '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' };
    expect(tfjsVersionMismatch({ '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.21.0' }, writtenFor)!.oneLine()).toBe(
      "The platform's WASM kernels were written for @tensorflow/tfjs-backend-wasm 4.22.0 and this process runs 4.21.0. " +
        "Install @tensorflow/tfjs-backend-wasm@4.22.0, or run with L2O_KERNELS=tfjs to use tfjs's own kernels.",
    );
    expect(tfjsVersionMismatch({ '@tensorflow/tfjs-core': '5.0.0', '@tensorflow/tfjs-backend-wasm': undefined }, writtenFor)!.oneLine()).toBe(
      "The platform's WASM kernels were written for @tensorflow/tfjs-core 4.22.0 and @tensorflow/tfjs-backend-wasm 4.22.0, " +
        'and this process runs 5.0.0 and an unknown version. ' +
        "Install @tensorflow/tfjs-core@4.22.0 and @tensorflow/tfjs-backend-wasm@4.22.0, or run with L2O_KERNELS=tfjs to use tfjs's own kernels.",
    );
  });
});
