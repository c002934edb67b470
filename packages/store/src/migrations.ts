import { L2oError } from '@l2o/core';
import type { Sql } from './sql.js';

/**
 * The schema, one version at a time; a store is migrated to the latest when it is opened.
 * Never edit a released migration: add the next one.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'runs, optimizers, curves, checkpoints, artifacts',
    sql: `
      CREATE TABLE runs (
        id text PRIMARY KEY,
        name text NOT NULL,
        spec jsonb NOT NULL,
        spec_hash text NOT NULL,
        problem text NOT NULL,
        problem_options jsonb NOT NULL,
        train_dataset text NOT NULL,
        train_dataset_options jsonb NOT NULL,
        test_dataset text NOT NULL,
        test_dataset_options jsonb NOT NULL,
        test_instances integer NOT NULL,
        iterations integer NOT NULL,
        scale text NOT NULL,
        seed integer NOT NULL,
        engine text NOT NULL,
        training jsonb NOT NULL,
        versions jsonb NOT NULL,
        git_commit text,
        status text NOT NULL CHECK (status IN ('complete')),
        created_at timestamptz NOT NULL
      );
      CREATE INDEX runs_created ON runs (created_at);
      CREATE TABLE checkpoints (
        sha256 text PRIMARY KEY,
        model_id text NOT NULL,
        config_hash text NOT NULL,
        content bytea NOT NULL
      );
      CREATE TABLE run_optimizers (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        label text NOT NULL,
        optimizer_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('learned', 'baseline')),
        options jsonb NOT NULL,
        checkpoint_sha256 text REFERENCES checkpoints (sha256),
        final_gap double precision,
        final_f double precision,
        iterations_to jsonb NOT NULL,
        diverged_at integer,
        parameters integer,
        training_seconds double precision,
        evaluation_seconds double precision NOT NULL,
        PRIMARY KEY (run_id, label)
      );
      CREATE INDEX run_optimizers_id ON run_optimizers (optimizer_id);
      CREATE TABLE curves (
        run_id text NOT NULL,
        label text NOT NULL,
        iteration integer NOT NULL,
        mean_f double precision NOT NULL,
        mean_gap double precision NOT NULL,
        instances integer NOT NULL,
        gap_instances integer NOT NULL,
        PRIMARY KEY (run_id, label, iteration),
        FOREIGN KEY (run_id, label) REFERENCES run_optimizers (run_id, label) ON DELETE CASCADE
      );
      CREATE TABLE artifacts (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        name text NOT NULL,
        content bytea NOT NULL,
        PRIMARY KEY (run_id, name)
      );
    `,
  },
  {
    version: 2,
    name: "optimizers keep their run's order",
    // Runs stored before have no position: they list by label, as they did.
    sql: `ALTER TABLE run_optimizers ADD COLUMN position integer;`,
  },
  {
    version: 3,
    name: 'trainings (l2o train)',
    sql: `
      CREATE TABLE trainings (
        id text PRIMARY KEY,
        model_id text NOT NULL,
        problem text NOT NULL,
        problem_options jsonb NOT NULL,
        dataset text NOT NULL,
        dataset_options jsonb NOT NULL,
        training jsonb NOT NULL,
        seed integer NOT NULL,
        engine text NOT NULL,
        checkpoint_sha256 text NOT NULL REFERENCES checkpoints (sha256),
        best_step integer,
        best_loss double precision,
        seconds double precision NOT NULL,
        versions jsonb NOT NULL,
        git_commit text,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX trainings_model ON trainings (model_id);
    `,
  },
  {
    version: 4,
    name: 'job results (distributed sweeps)',
    // A sweep's workers store their checkpoints, resume checkpoints and evaluations by job key.
    sql: `
      CREATE TABLE job_results (
        key text PRIMARY KEY,
        kind text NOT NULL,
        content bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 5,
    name: 'safeguard acceptance',
    // A safeguarded learned optimizer's share of kept learned steps: per iteration, and over the run.
    sql: `
      ALTER TABLE curves ADD COLUMN accepted double precision;
      ALTER TABLE run_optimizers ADD COLUMN acceptance double precision;
    `,
  },
  {
    version: 6,
    name: 'test data provenance',
    // The raw files a run's real test set came from: dataset, location, count, manifest digest.
    sql: `ALTER TABLE runs ADD COLUMN test_data jsonb;`,
  },
  {
    version: 7,
    name: 'per-instance results',
    // Each optimizer's per-instance gaps, gap quantiles per iteration and float64 provenance, as the
    // JSON text the evaluator wrote (text, not jsonb: an exported run gives the same bytes back).
    sql: `ALTER TABLE run_optimizers ADD COLUMN instance_results text;`,
  },
  {
    version: 8,
    name: 'pretrained provenance',
    // An optimizer evaluated with a pretrained package's weights: their name and how they were trained.
    sql: `ALTER TABLE run_optimizers ADD COLUMN pretrained jsonb;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Brings a store to the latest schema; a store of a newer schema is refused. */
export async function migrate(sql: Sql, where: string): Promise<number> {
  await sql.exec(`CREATE TABLE IF NOT EXISTS l2o_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  return sql.transaction(async (tx) => {
    // Two processes opening a new server store at once: one migrates, the other waits.
    await tx.query('SELECT pg_advisory_xact_lock(7204812)');
    const { rows } = await tx.query<{ version: number | null }>('SELECT max(version) AS version FROM l2o_schema');
    const current = rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new L2oError(
        `The run store ${where} has schema version ${current}, newer than this l2o knows (${SCHEMA_VERSION}).`,
        'Upgrade l2o, or give another --store.',
      );
    }
    for (const m of MIGRATIONS.filter((x) => x.version > current)) {
      await tx.exec(m.sql);
      await tx.query('INSERT INTO l2o_schema (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    return SCHEMA_VERSION;
  });
}
