import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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

/**
 * PGlite keeps one process's database in a folder; a second process opening the same folder
 * would corrupt it. The lock file names the holder, so the second gets one clear line instead.
 */
async function lockFolder(dir: string, waitMs: number): Promise<() => void> {
  const file = path.join(dir, 'l2o-store.lock');
  const me = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ').slice(0, 200) };
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: typeof me | null;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as typeof me;
      } catch {
        holder = null; // half-written by a process that died at once
      }
      if (holder && holder.host === me.host && alive(holder.pid)) {
        // A writer holds it only while it stores a run: wait for it when asked to.
        if (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        throw new L2oError(
          `The run store ${dir} is open in process ${holder.pid} (${holder.command}) since ${holder.since}.`,
          'An embedded store has one writer at a time: wait for it, or share a PostgreSQL server between processes (--store postgres://…).',
        );
      }
      if (attempt > 20) throw new L2oError(`The run store ${dir} could not be locked.`, 'Try again.');
      rmSync(file, { force: true }); // its holder is gone
    }
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
  mkdirSync(dir, { recursive: true });
  const unlock = await lockFolder(dir, waitMs);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(path.join(dir, 'pgdata'));
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
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new L2oError(
      `Cannot reach the run store ${redact(url)}: ${err.code ?? err.message.split('\n')[0]}.`,
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
