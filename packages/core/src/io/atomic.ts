import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { fsError } from './fs-errors.js';

/**
 * A file system error while writing `target` (through its temporary sibling `tmp`) as one line
 * naming `target`, or the error itself. An error on another path (an input read meanwhile) keeps
 * its own path; a write(2) has none (a full disk), so it is the target's, as is a failed mkdir of
 * one of its folders.
 */
function writeError(e: unknown, target: string, tmp: string): unknown {
  const own = (e as NodeJS.ErrnoException).path;
  const onTarget = own === undefined || own === tmp || own.startsWith(`${tmp}${path.sep}`) || target.startsWith(`${own}${path.sep}`);
  return fsError(e, onTarget ? target : own) ?? e;
}

/** Writes a file so that readers see either nothing or all of it: temp file, then rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (e) {
    throw writeError(e, file, tmp);
  }
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(e, file, tmp);
  }
}

/**
 * Fills a directory under a temporary name beside `target`, then renames it into place, so a
 * crash never leaves a half-written directory. Fails if `target` exists (runs never share one).
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  const parent = path.dirname(target);
  // Not mkdtemp: it creates the folder with mode 0700 whatever the umask, and the rename keeps it.
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(parent, { recursive: true });
    mkdirSync(tmp);
  } catch (e) {
    throw writeError(e, target, tmp);
  }
  try {
    const result = await fill(tmp);
    try {
      renameSync(tmp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR') {
        throw new UsageError(`${target} already exists.`, 'Give a path that does not exist yet, or remove it.');
      }
      throw e;
    }
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(e, target, tmp);
  }
}
