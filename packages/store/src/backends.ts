import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { L2oError } from '@l2o/core';
import type { Sql } from './sql.js';

type Queryable = { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>; exec(text: string): Promise<unknown> };

function adapt(db: Queryable, transaction: Sql['transaction'], close: () => Promise<void>): Sql {
  return {
    query: async <R>(text: string, params: readonly unknown[] = []) => ({ rows: (await db.query(text, [...params])).rows as R[] }),
    exec: async (text) => {
      await db.exec(text);
    },
    transaction,
    close,
  };
}

/** A store folder this process cannot write to: one line that says so. */
function notWritable(dir: string, e: unknown): L2oError {
  const err = e as NodeJS.ErrnoException;
  return new L2oError(
    `The run store ${dir} cannot be written by this user (${err.code ?? err.message.split('\n')[0]}).`,
    'Give a folder you can write to (--store DIR, L2O_STORE), or make this one writable.',
  );
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
    const db = await PGlite.create(path.join(dir, 'pgdata')).catch((e: unknown) => {
      throw new L2oError(
        `The run store ${dir} could not be opened: ${(e as Error).message.split('\n')[0]}.`,
        'Give a writable folder that holds an l2o store, or an empty one (--store DIR, L2O_STORE).',
      );
    });
    const transaction: Sql['transaction'] = (fn) =>
      db.transaction((tx) =>
        fn(
          adapt(
            tx as unknown as Queryable,
            () => Promise.reject(new Error('nested transaction')),
            async () => {},
          ),
        ),
      );
    return adapt(db, transaction, async () => {
      try {
        await db.close();
      } finally {
        unlock();
      }
    });
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
        ),
      );
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK');
      throw e;
    }
  };
  return adapt(q, transaction, () => client.end());
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
