import { mkdirSync, renameSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import path from 'node:path';

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
  const tmp = mkdtempSync(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    const result = await fill(tmp);
    renameSync(tmp, target);
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
