import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { GENERATED, assembleKernels } from '../scripts/assemble-kernels.mjs';

describe('the assembled WASM kernels', () => {
  it('are those of the .wat sources (node packages/wasm-kernels/scripts/assemble-kernels.mjs rewrites them)', async () => {
    expect(readFileSync(GENERATED as string, 'utf8')).toBe(await (assembleKernels as () => Promise<string>)());
  });
});
