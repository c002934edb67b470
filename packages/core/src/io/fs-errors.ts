import { statSync } from 'node:fs';
import path from 'node:path';
import { L2oError } from '../errors.js';

/** Where a CLI user can send its output instead; every hint below ends with it. */
const ELSEWHERE = 'or use --runs-dir, --cache-dir or --store elsewhere';

/** The nearest existing path at or above `file` that is not a folder (what makes mkdir fail), if any. */
function fileInTheWay(file: string): string | undefined {
  for (let p = path.resolve(file); ; p = path.dirname(p)) {
    try {
      return statSync(p).isDirectory() ? undefined : p;
    } catch {
      // not there (or not reachable): look one level up
    }
    if (path.dirname(p) === p) return undefined;
  }
}

/**
 * A file system error (Node's: `code` ENOSPC, EACCES, …) as one line that names the path, the
 * cause and the next step, or null when `e` is not one of those. `file` is the path the user
 * knows (an output folder rather than its temporary sibling); by default the error's own path.
 * Node gives no path for a failed write(2) (a full disk), so the writers pass theirs.
 */
export function fsError(e: unknown, file?: string, hint?: string): L2oError | null {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const where = file ?? err?.path;
  if (!code || !where) return null;
  const make = (message: string, next: string) => new L2oError(message, hint ?? next);
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return make(`No space left on the device holding ${where} (${code}${code === 'EDQUOT' ? ': disk quota' : ''}).`, `Free space there, ${ELSEWHERE}.`);
    case 'EROFS':
      return make(`${where} is on a read-only file system (EROFS).`, `Mount it writable, ${ELSEWHERE}.`);
    case 'EACCES':
    case 'EPERM':
      return make(`Permission denied on ${where} (${code}).`, `Give this user access to it, ${ELSEWHERE}.`);
    case 'EEXIST':
    case 'ENOTDIR': {
      const blocker = fileInTheWay(where);
      if (blocker === undefined)
        return make(code === 'EEXIST' ? `${where} already exists (EEXIST).` : `A part of ${where} is not a folder (ENOTDIR).`, 'Give another path.');
      const message =
        blocker === where ? `${where} is a file, not a folder (${code}).` : `${where} cannot be created: ${blocker} is a file, not a folder (${code}).`;
      return make(message, `Move ${blocker} aside, or give another path.`);
    }
    case 'EISDIR':
      return make(`${where} is a folder, not a file (EISDIR).`, 'Give a file path.');
    case 'EIO':
      return make(`The device holding ${where} failed to read or write (EIO).`, `Check the device (dmesg), ${ELSEWHERE}.`);
    default:
      return null;
  }
}
