import path from 'node:path';
import type { RunRecord, RunStore, TrainingRecord } from '@l2o/core';
import { openEmbedded, openServer, redact } from './backends.js';
import { migrate } from './migrations.js';
import { SqlRunStore } from './run-store.js';

/**
 * Opens the run store at a location: `postgres://…` (or `postgresql://…`) is a PostgreSQL server,
 * anything else a folder for the embedded store. Migrates it to the latest schema.
 */
export async function openRunStore(location: string, options: { waitForLockMs?: number } = {}): Promise<SqlRunStore> {
  const server = /^postgres(ql)?:\/\//.test(location);
  const where = server ? redact(location) : path.resolve(location);
  const sql = server ? await openServer(location) : await openEmbedded(where, options.waitForLockMs);
  try {
    await migrate(sql, where);
  } catch (e) {
    await sql.close();
    throw e;
  }
  return new SqlRunStore(sql, where);
}

/**
 * A RunStore for the platform's container that opens the store only while it writes a run (an
 * embedded store then blocks other processes for seconds, not for a whole training; they wait up
 * to two minutes for it). `versions` and `gitCommit` are added to every run.
 */
export function storeWriter(location: string, provenance: { versions: Record<string, string>; gitCommit?: string }): RunStore {
  const server = /^postgres(ql)?:\/\//.test(location);
  return {
    location: server ? redact(location) : path.resolve(location),
    async saveRun(run: RunRecord) {
      const store = await openRunStore(location, { waitForLockMs: 120_000 });
      try {
        return await store.saveRun({ ...run, versions: { ...provenance.versions, ...run.versions }, gitCommit: run.gitCommit ?? provenance.gitCommit });
      } finally {
        await store.close();
      }
    },
    async saveTraining(training: TrainingRecord) {
      const store = await openRunStore(location, { waitForLockMs: 120_000 });
      try {
        return await store.saveTraining({
          ...training,
          versions: { ...provenance.versions, ...training.versions },
          gitCommit: training.gitCommit ?? provenance.gitCommit,
        });
      } finally {
        await store.close();
      }
    },
  };
}
