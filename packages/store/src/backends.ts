import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsError, L2oError } from '@l2o/core';
import type { Sql } from './sql.js';

type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>; exec(text: string): Promise<unknown> };

/** What the user should see for an error of the database (by default, the error itself). */
type ErrorMap = (e: unknown) => unknown;

function adapt(db: Queryable, transaction: Sql['transaction'], close: () => Promise<void>, mapError: ErrorMap): Sql {
  return {
    query: async <R>(text: string, params: readonly unknown[] = []) => {
      try {
        return { rows: (await db.query(text, [...params])).rows as R[] };
      } catch (e) {
        throw mapError(e);
      }
    },
    exec: async (text) => {
      try {
        await db.exec(text);
      } catch (e) {
        throw mapError(e);
      }
    },
    transaction: async (fn) => {
      try {
        return await transaction(fn);
      } catch (e) {
        throw mapError(e);
      }
    },
    close,
  };
}

/** PostgreSQL's SQLSTATE of an error, if it is one of its. */
const sqlState = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};
/** SQLSTATEs of damaged files: data_corrupted, index_corrupted, io_error. */
const DAMAGED = new Set(['XX001', 'XX002', '58030']);
const DISK_FULL = '53100';
const firstLine = (e: unknown) =>
  String((e as { message?: unknown } | undefined)?.message ?? e)
    .split('\n')[0]!
    .replace(/\.+$/, '');

const NO_SPACE_HINT = 'Free space there, or give --store (L2O_STORE) a folder on another device.';

function corrupt(dir: string, cause: string): L2oError {
  return new L2oError(
    `The run store ${dir} is corrupt: PostgreSQL cannot use its files in ${path.join(dir, 'pgdata')} (${cause}).`,
    `Restore the folder from a backup, or move it aside (mv ${dir} ${dir}.corrupt) and store the runs again: l2o runs import <run directories>.`,
  );
}

/** The embedded store's errors that name a full disk or damaged files, as one line naming its folder. */
const embeddedErrors =
  (dir: string): ErrorMap =>
  (e) => {
    const state = sqlState(e);
    if (state === DISK_FULL)
      return new L2oError(`The run store ${dir} cannot be written: no space left on the device holding it (${firstLine(e)}).`, NO_SPACE_HINT);
    if (state && DAMAGED.has(state)) return corrupt(dir, firstLine(e));
    return e;
  };

/** A server's full disk, named (its damaged files are the server administrator's to see). */
const serverErrors =
  (where: string): ErrorMap =>
  (e) =>
    sqlState(e) === DISK_FULL
      ? new L2oError(
          `The PostgreSQL server of the run store ${where} has no disk space left (${firstLine(e)}).`,
          'Free space on the server, or give another --store.',
        )
      : e;

/** Where to go next when the store's folder cannot be used. */
const ELSEWHERE = 'Give --store (L2O_STORE) a folder you can write to: a new one, or one that holds an l2o store.';

/**
 * A store folder this process cannot use, as one line naming it and the cause: a folder of
 * another user, a full or read-only device, a file where the folder should be.
 */
function notWritable(dir: string, e: unknown): L2oError {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new L2oError(
      `The run store ${dir} cannot be written by this user (${err.code}).`,
      'Give a folder you can write to (--store DIR, L2O_STORE), or make this one writable.',
    );
  }
  const cause = fsError(e, dir);
  if (cause) {
    const next = err.code === 'ENOSPC' || err.code === 'EDQUOT' ? NO_SPACE_HINT : ELSEWHERE;
    return new L2oError(`The run store ${dir} cannot be used: ${cause.message}`, next);
  }
  return new L2oError(`The run store ${dir} cannot be used (${err.code ?? String(err.message ?? e).split('\n')[0]}).`, ELSEWHERE);
}

/**
 * PGlite's file system (Emscripten's) fails with its own errno numbers and no message; the
 * Node code of the ones a store folder meets, so they read as Node's would.
 */
const EMSCRIPTEN_ERRNO: Record<number, string> = {
  2: 'EACCES',
  19: 'EDQUOT',
  20: 'EEXIST',
  29: 'EIO',
  31: 'EISDIR',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
};

/** Why PGlite could not open the store in `dir`, as one line with the next step. */
function openFailure(dir: string, data: string, e: unknown): L2oError {
  const err = e as { name?: string; errno?: number } | undefined;
  const code = err?.name === 'ErrnoError' && typeof err.errno === 'number' ? EMSCRIPTEN_ERRNO[err.errno] : undefined;
  if (code) return notWritable(dir, Object.assign(new Error(code), { code }));
  const mapped = embeddedErrors(dir)(e);
  if (mapped instanceof L2oError) return mapped;
  const why = firstLine(e);
  // PostgreSQL (compiled to WASM) aborts, or PGlite gives up, when an existing store's files are
  // damaged: a truncated write-ahead log or data file.
  if (/^Aborted\(|failed to initialize/.test(why) && existsSync(path.join(data, 'PG_VERSION'))) {
    // Starting up writes too: on a (nearly) full device that is the likelier cause.
    const free = freeBytes(dir);
    if (free !== undefined && free < 16 * 2 ** 20) {
      return new L2oError(
        `The run store ${dir} could not be opened: PostgreSQL stopped while starting, most likely for want of space (the device holding it has ${Math.round(free / 1024)} kB free).`,
        'Free space there and try again; if it still fails, its files are damaged: restore the folder from a backup, or move it aside.',
      );
    }
    return corrupt(dir, 'a truncated or missing write-ahead log or data file, e.g. after a crash or a full disk');
  }
  return new L2oError(
    `The run store ${dir} could not be opened: ${why}.`,
    'Give a writable folder that holds an l2o store, or an empty one (--store DIR, L2O_STORE).',
  );
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

interface LockHolder {
  pid: number;
  host: string;
  since: string;
  command: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lock's holder, 'gone' when there is no lock file (just released), null when unreadable. */
function readHolder(file: string): LockHolder | 'gone' | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
}

const sameHolder = (a: LockHolder | null, b: LockHolder | 'gone' | null) =>
  a !== null && b !== null && b !== 'gone' && a.pid === b.pid && a.host === b.host && a.since === b.since;

/**
 * PGlite keeps one process's database in a folder; a second process opening the same folder
 * would corrupt it. The lock file names the holder, so the second gets one clear line instead.
 * The lock is written whole before it appears (a hard link of a complete temporary file), so a
 * reader never sees half of one; a dead holder's lock is taken over by renaming it aside first,
 * so that a fresh lock written meanwhile by another process is put back, not deleted.
 */
async function lockFolder(dir: string, waitMs: number): Promise<() => void> {
  const file = path.join(dir, 'l2o-store.lock');
  const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ').slice(0, 200) };
  const deadline = Date.now() + waitMs;
  const unique = () => `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  for (let takeovers = 0; ;) {
    const temp = unique();
    try {
      writeFileSync(temp, JSON.stringify(me));
    } catch (e) {
      throw notWritable(dir, e);
    }
    try {
      linkSync(temp, file);
      // A process that read a dead holder just before our link may still move ours aside (and
      // puts it back); ours is the lock only if it is still there a moment later.
      await sleep(50);
      if (sameHolder(me, readHolder(file))) return () => rmSync(file, { force: true });
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw notWritable(dir, e);
    } finally {
      rmSync(temp, { force: true });
    }
    const holder = readHolder(file);
    if (holder === 'gone') continue; // released just now
    if (holder && (holder.host !== me.host || alive(holder.pid))) {
      // A writer holds it only while it stores a run: wait for it when asked to.
      if (Date.now() < deadline) {
        await sleep(250);
        continue;
      }
      throw new L2oError(
        `The run store ${dir} is open in process ${holder.pid}${holder.host !== me.host ? ` on ${holder.host}` : ''} (${holder.command}) since ${holder.since}.`,
        'An embedded store has one writer at a time: wait for it, or share a PostgreSQL server between processes (--store postgres://…).',
      );
    }
    // Its holder is gone (or the file is not a lock at all): take it over.
    if (++takeovers > 20) throw new L2oError(`The run store ${dir} could not be locked: its lock file ${file} keeps changing.`, 'Try again.');
    const aside = unique();
    try {
      renameSync(file, aside);
    } catch {
      continue; // someone else moved it first
    }
    if (holder !== null && !sameHolder(holder, readHolder(aside))) {
      // Not the dead holder's lock any more, but a live process's new one: put it back.
      try {
        linkSync(aside, file);
      } catch {
        // a third process locked meanwhile; the one whose lock this was sees it is gone and retries
      }
    }
    rmSync(aside, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded store: PostgreSQL (PGlite) in a folder, one process at a time. */
export async function openEmbedded(dir: string, waitMs = 0): Promise<Sql> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw notWritable(dir, e);
  }
  const unlock = await lockFolder(dir, waitMs);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const data = path.join(dir, 'pgdata');
    const fresh = !existsSync(data);
    const db = await PGlite.create(data).catch((e: unknown) => {
      // A store that could not be created (a full disk) leaves no half-made database behind,
      // which would read as a corrupt store once there is room.
      if (fresh) rmSync(data, { recursive: true, force: true });
      throw openFailure(dir, data, e);
    });
    const transaction: Sql['transaction'] = (fn) =>
      db.transaction((tx) =>
        fn(
          adapt(
            tx as unknown as Queryable,
            () => Promise.reject(new Error('nested transaction')),
            async () => {},
            (e) => e, // the transaction as a whole maps its error
          ),
        ),
      );
    return adapt(
      db,
      transaction,
      async () => {
        try {
          await db.close();
        } finally {
          unlock();
        }
      },
      embeddedErrors(dir),
    );
  } catch (e) {
    unlock();
    throw e;
  }
}

/** A PostgreSQL server (shared by processes and machines), through `pg`. */
export async function openServer(url: string): Promise<Sql> {
  const pg = (await import('pg')).default;
  let client: InstanceType<typeof pg.Client>;
  try {
    // A malformed URL fails here (pg parses it with the URL class).
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ERR_INVALID_URL' ? 'it is not a valid URL' : (err.code ?? err.message.split('\n')[0]);
    throw new L2oError(
      `Cannot reach the run store ${redact(url)}: ${why}.`,
      'Check the URL and that the PostgreSQL server runs and accepts connections from this machine.',
    );
  }
  // A server-side error on an idle connection must not crash the process.
  client.on('error', () => {});
  const q: Queryable = { query: (text, params) => client.query(text, params), exec: (text) => client.query(text) };
  const transaction: Sql['transaction'] = async (fn) => {
    await client.query('BEGIN');
    try {
      const result = await fn(
        adapt(
          q,
          () => Promise.reject(new Error('nested transaction')),
          async () => {},
          (e) => e, // the transaction as a whole maps its error
        ),
      );
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  };
  return adapt(q, transaction, () => client.end(), serverErrors(redact(url)));
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
