/**
 * The one SQL surface the store is written against: PostgreSQL's dialect with numbered
 * parameters ($1, $2, …), served by PGlite (PostgreSQL compiled to WASM, in a folder) or by a
 * PostgreSQL server through `pg`. No SQL is built from values: every value is a parameter.
 */
export interface Sql {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs `fn` in one transaction: all of it is committed, or none of it. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
