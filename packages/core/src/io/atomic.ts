import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** Writes a file so that readers see either nothing or all of it: temp file, then rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Fills a directory under a temporary name beside `target`, then renames it into place, so a
 * crash never leaves a half-written directory. Fails if `target` exists (runs never share one).
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  const parent = path.dirname(target);
  mkdirSync(parent, { recursive: true });
  // Not mkdtemp: it creates the folder with mode 0700 whatever the umask, and the rename keeps it.
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
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
    throw e;
  }
}
