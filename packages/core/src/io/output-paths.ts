import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/**
 * What an output location must be:
 * - `file`: a file to create or replace (its folders are created);
 * - `new-dir`: a folder that must not exist yet (it is created whole, atomically);
 * - `dir`: a folder to write into, created if missing.
 */
export type OutputKind = 'file' | 'new-dir' | 'dir';

/**
 * Checks an output location before any work starts, so that a long run never fails at its end
 * on a path it could not write. `what` names it in the message (e.g. '--out').
 */
export function checkOutputPath(target: string, kind: OutputKind, what: string): void {
  if (target.trim() === '') throw new UsageError(`${what} is empty.`, 'Give a path.');
  const full = path.resolve(target);
  if (existsSync(full)) {
    const stat = statSync(full);
    if (kind === 'new-dir') throw new UsageError(`${what} ${full} already exists.`, 'Give a path that does not exist yet, or remove it.');
    if (kind === 'file' && stat.isDirectory())
      throw new UsageError(`${what} ${full} is a folder, not a file.`, `Give a file path, e.g. ${path.join(full, 'checkpoint.json')}.`);
    if (kind === 'dir' && !stat.isDirectory()) throw new UsageError(`${what} ${full} is a file, not a folder.`, 'Give a folder path.');
    if (!writable(full)) throw new UsageError(`${what} ${full} is not writable.`, 'Give a location you can write to.');
    return;
  }
  // The nearest existing ancestor must be a writable folder: the rest is created.
  let parent = path.dirname(full);
  while (!existsSync(parent)) parent = path.dirname(parent);
  if (!statSync(parent).isDirectory()) {
    throw new UsageError(`${what} ${full} is under ${parent}, which is a file, not a folder.`, 'Give a path whose parents are folders.');
  }
  if (!writable(parent)) throw new UsageError(`${what} ${full} cannot be created: ${parent} is not writable.`, 'Give a location you can write to.');
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
