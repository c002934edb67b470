import path from 'node:path';
import { openEmbedded, openServer, redact } from './backends.js';
import { migrate } from './migrations.js';
import { SqlRunStore } from './run-store.js';

/**
 * Opens the run store at a location: `postgres://…` (or `postgresql://…`) is a PostgreSQL server,
 * anything else a folder for the embedded store. Migrates it to the latest schema.
 */
export async function openRunStore(location: string): Promise<SqlRunStore> {
  const server = /^postgres(ql)?:\/\//.test(location);
  const where = server ? redact(location) : path.resolve(location);
  const sql = server ? await openServer(location) : await openEmbedded(where);
  try {
    await migrate(sql, where);
  } catch (e) {
    await sql.close();
    throw e;
  }
  return new SqlRunStore(sql, where);
}
