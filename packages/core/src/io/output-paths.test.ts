import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPath } from './output-paths.js';
import { writeDirAtomic } from './atomic.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-output-paths-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
mkdirSync(path.join(temp, 'folder'));
writeFileSync(path.join(temp, 'plain-file'), 'x');

const errorOf = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};
const at = (...parts: string[]) => path.join(temp, ...parts);

describe('checkOutputPath', () => {
  it('accepts what can be written, including missing folders on the way', () => {
    for (const kind of ['file', 'new-dir', 'dir'] as const) expect(() => checkOutputPath(at('new', 'deeper', 'x'), kind, '--out')).not.toThrow();
    expect(() => checkOutputPath(at('plain-file'), 'file', '--out')).not.toThrow(); // replaced
    expect(() => checkOutputPath(at('folder'), 'dir', '--runs-dir')).not.toThrow();
  });

  it('refuses an empty path, a folder for a file, a file for a folder, an existing new folder, a path under a file', () => {
    expect(errorOf(() => checkOutputPath('', 'dir', '--runs-dir'))).toBe('--runs-dir is empty.');
    expect(errorOf(() => checkOutputPath(at('folder'), 'file', '--out'))).toMatch(/--out .*folder is a folder, not a file/);
    expect(errorOf(() => checkOutputPath(at('plain-file'), 'dir', '--runs-dir'))).toMatch(/plain-file is a file, not a folder/);
    expect(errorOf(() => checkOutputPath(at('folder'), 'new-dir', '--out'))).toMatch(/folder already exists/);
    expect(errorOf(() => checkOutputPath(at('plain-file'), 'new-dir', '--out'))).toMatch(/plain-file already exists/);
    for (const kind of ['file', 'new-dir', 'dir'] as const) {
      expect(errorOf(() => checkOutputPath(at('plain-file', 'a', 'x.json'), kind, '--out'))).toMatch(/under .*plain-file, which is a file, not a folder/);
    }
  });

  // Root may write anywhere; the CLI test runs this case as an unprivileged user instead.
  it.skipIf(process.getuid?.() === 0)('refuses a read-only folder', () => {
    const locked = at('locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    try {
      expect(errorOf(() => checkOutputPath(path.join(locked, 'out'), 'new-dir', '--out'))).toMatch(/cannot be created: .*locked is not writable/);
      expect(errorOf(() => checkOutputPath(locked, 'dir', '--runs-dir'))).toMatch(/locked is not writable/);
    } finally {
      chmodSync(locked, 0o755);
    }
  });
});

describe('writeDirAtomic', () => {
  it('creates the folder with the mode the umask gives, not 0700', async () => {
    const previous = process.umask(0o022);
    try {
      await writeDirAtomic(at('umask-022'), () => {});
      expect(statSync(at('umask-022')).mode & 0o777).toBe(0o755);
      process.umask(0o027);
      await writeDirAtomic(at('umask-027'), () => {});
      expect(statSync(at('umask-027')).mode & 0o777).toBe(0o750);
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a target that appeared meanwhile, leaving no temporary folder', async () => {
    mkdirSync(at('raced'));
    writeFileSync(at('raced', 'theirs'), 'x');
    await expect(writeDirAtomic(at('raced'), () => {})).rejects.toThrow(/raced already exists/);
    expect(statSync(at('raced')).isDirectory()).toBe(true);
    const leftovers = (await import('node:fs')).readdirSync(temp).filter((f) => f.startsWith('.raced.tmp-'));
    expect(leftovers).toEqual([]);
  });
});
