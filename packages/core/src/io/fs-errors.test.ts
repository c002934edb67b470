import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic } from './atomic.js';
import { isL2oError } from '../errors.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-fs-errors-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const at = (...parts: string[]) => path.join(temp, ...parts);
writeFileSync(at('a-file'), 'x');

/** The one line a writer fails with (it must be an L2oError: the CLI prints it without a stack). */
async function lineOf(write: () => unknown): Promise<string> {
  try {
    await write();
  } catch (e) {
    expect(isL2oError(e), String(e)).toBe(true);
    return (e as { oneLine(): string }).oneLine();
  }
  throw new Error('did not fail');
}

describe('the atomic writers name the path, the cause and the next step', () => {
  it('a full device (/dev/full: a write without a path): the target, ENOSPC, nothing left behind', async () => {
    const target = at('runs', 'run-1');
    const line = await lineOf(() => writeDirAtomic(target, () => writeFileSync('/dev/full', 'data')));
    expect(line).toBe(`No space left on the device holding ${target} (ENOSPC). Free space there, or use --runs-dir, --cache-dir or --store elsewhere.`);
    expect(readdirSync(at('runs'))).toEqual([]);
  });

  it('a target under a file: names the file in the way', async () => {
    const file = at('a-file', 'sub', 'out.json');
    expect(await lineOf(() => writeFileAtomic(file, '{}'))).toBe(
      `${file} cannot be created: ${at('a-file')} is a file, not a folder (ENOTDIR). Move ${at('a-file')} aside, or give another path.`,
    );
    const dir = at('a-file', 'run');
    expect(await lineOf(() => writeDirAtomic(dir, () => {}))).toMatch(
      new RegExp(`^${dir} cannot be created: ${at('a-file')} is a file, not a folder \\((ENOTDIR|EEXIST)\\)\\.`),
    );
    expect(existsSync(at('a-file'))).toBe(true);
  });

  it('an error on another path (an input read while filling) keeps its own path', async () => {
    const missing = at('no-such-input');
    await expect(writeDirAtomic(at('out'), () => writeFileSync(path.join(missing, 'x'), ''))).rejects.toMatchObject({ code: 'ENOENT' });
    const folder = at('a-folder-input');
    await writeDirAtomic(folder, () => {});
    const line = await lineOf(() => writeDirAtomic(at('out2'), () => writeFileSync(folder, 'x')));
    expect(line).toBe(`${folder} is a folder, not a file (EISDIR). Give a file path.`);
  });
});
