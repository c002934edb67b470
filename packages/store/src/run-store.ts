import { createHash } from 'node:crypto';
import {
  configHash,
  instanceMetrics,
  stableStringify,
  UsageError,
  type EvaluationCurve,
  type OptimizerSummary,
  type RunRecord,
  type RunStore,
  type TrainingRecord,
} from '@l2o/core';
import type { Sql } from './sql.js';

export type { RunRecord, TrainingRecord } from '@l2o/core';

/** A stored training as `l2o runs trainings` lists it. */
export interface TrainingListing {
  id: string;
  modelId: string;
  problem: string;
  dataset: string;
  seed: number;
  globalSteps: number;
  bestLoss: number | null;
  bestStep: number | null;
  seconds: number;
  engine: string;
  checkpointSha256: string;
  createdAt: string;
}

export interface RunFilter {
  id?: string;
  model?: string;
  problem?: string;
  /** The test dataset. */
  dataset?: string;
  scale?: string;
  /** Runs created at or after this time. */
  since?: Date;
  /** The experiment's name (the run's `name` column). */
  name?: string;
  seed?: number;
  /**
   * Conditions on the run's config.json (the `spec` column), all of which must hold: the value at
   * `path` (keys, or array indices as digits), as text, equals `value`. A path is looked up at
   * config.json's top level and under its `spec` (`['seed']` is the spec's seed; `['training',
   * 'globalSteps']` the resolved training setting); either matching is enough.
   */
  where?: readonly RunCondition[];
}

/** One `--where key=value` condition: a path into a run's config.json and the text it must equal. */
export interface RunCondition {
  path: readonly string[];
  value: string;
}

/** A row of `l2o runs list`: a run and the final gap of each of its optimizers. */
export interface RunListing {
  id: string;
  name: string;
  problem: string;
  testDataset: string;
  scale: string;
  seed: number;
  engine: string;
  createdAt: string;
  optimizers: { label: string; id: string; kind: string; finalGap: number | null; divergedAt: number | null }[];
}

/** A learned optimizer's checkpoint in a stored run, as the dashboard lists them. */
export interface CheckpointListing {
  runId: string;
  label: string;
  modelId: string;
  sha256: string;
  problem: { id: string; options: Record<string, unknown> };
  trainDataset: { id: string; options: Record<string, unknown> };
  createdAt: string;
}

/** (Kept here for the store's users; it lives in core, which the kept figure data uses too.) */
export { newestPerSeed } from '@l2o/core';

const sha256 = (content: string | Uint8Array) => createHash('sha256').update(content).digest('hex');
const bytes = (content: string | Uint8Array) => (typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content));
/** float8 columns take NaN and ±Infinity as text; JSON would turn them into null. */
const float = (v: number | undefined | null) => (v === undefined || v === null ? null : Number.isFinite(v) ? v : String(v));

/** The run store over one SQL connection (embedded or server): one schema, one dialect. */
/** A JSON column: an object from PostgreSQL (pg parses jsonb), a string from some drivers. */
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

/**
 * The SQL of `where` conditions, parameters numbered from `first`: only placeholders are put into
 * the text; every path (a text[]) and value is a parameter.
 */
function whereClause(conditions: readonly RunCondition[], first: number): { sql: string; params: unknown[] } {
  let sql = '';
  const params: unknown[] = [];
  for (const c of conditions) {
    if (c.path.length === 0) throw new UsageError(`A run condition needs a key (a path into config.json), got none for '${c.value}'.`);
    const p = `$${first + params.length}::text[]`;
    const v = `$${first + params.length + 1}::text`;
    sql += `\n          AND (r.spec #>> ${p} = ${v} OR r.spec -> 'spec' #>> ${p} = ${v})`;
    params.push([...c.path], c.value);
  }
  return { sql, params };
}

export class SqlRunStore implements RunStore {
  constructor(
    private readonly sql: Sql,
    /** Where the store is, for messages. */
    readonly location: string,
  ) {}

  /**
   * Stores a run in one transaction: a process killed in the middle leaves no part of it.
   * Storing a run id that is already there changes nothing (imports are idempotent).
   */
  async saveRun(run: RunRecord): Promise<{ id: string; created: boolean }> {
    return this.sql.transaction(async (tx) => {
      const s = run.summary;
      const inserted = await tx.query(
        `INSERT INTO runs (id, name, spec, spec_hash, problem, problem_options, train_dataset, train_dataset_options,
           test_dataset, test_dataset_options, test_instances, iterations, scale, seed, engine, training, versions,
           git_commit, test_data, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 'complete', $20)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          run.id,
          s.name,
          stableStringify(run.spec),
          configHash(run.spec),
          s.problem.id,
          stableStringify(s.problem.options),
          s.trainDataset.id,
          stableStringify(s.trainDataset.options),
          s.testDataset.id,
          stableStringify(s.testDataset.options),
          s.testInstances,
          s.iterations,
          s.scale,
          s.seed,
          s.engine,
          stableStringify(s.training),
          stableStringify(run.versions),
          run.gitCommit ?? null,
          s.testData ? stableStringify(s.testData) : null,
          s.createdAt,
        ],
      );
      if (inserted.rows.length === 0) return { id: run.id, created: false };
      for (const [position, o] of s.optimizers.entries()) {
        const checkpoint = run.checkpoints[o.label];
        let checkpointSha: string | null = null;
        if (checkpoint !== undefined) {
          checkpointSha = sha256(checkpoint);
          const parsed = JSON.parse(checkpoint) as { modelId: string; config: unknown };
          await tx.query(`INSERT INTO checkpoints (sha256, model_id, config_hash, content) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING`, [
            checkpointSha,
            parsed.modelId,
            configHash(parsed.config),
            bytes(checkpoint),
          ]);
        }
        await tx.query(
          `INSERT INTO run_optimizers (run_id, label, optimizer_id, kind, options, checkpoint_sha256, final_gap, final_f,
             iterations_to, diverged_at, parameters, training_seconds, evaluation_seconds, position, acceptance, instance_results, pretrained)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
          [
            run.id,
            o.label,
            o.id,
            o.kind,
            stableStringify(o.options),
            checkpointSha,
            float(o.finalGap),
            float(o.finalF),
            stableStringify(o.iterationsTo),
            o.divergedAt ?? null,
            o.parameters ?? null,
            o.trainingSeconds ?? null,
            o.evaluationSeconds,
            position,
            o.acceptance ?? null,
            instanceResultsText(run.curves.find((c) => c.optimizer === o.label)),
            o.pretrained ? JSON.stringify(o.pretrained) : null,
          ],
        );
        const curve = run.curves.find((c) => c.optimizer === o.label);
        if (curve) {
          // One statement per curve: the iterations arrive as parallel arrays.
          await tx.query(
            `INSERT INTO curves (run_id, label, iteration, mean_f, mean_gap, instances, gap_instances, accepted)
             SELECT $1, $2, (t.k - 1)::integer, t.f, t.g, $5, $6, t.a FROM unnest($3::float8[], $4::float8[], $7::float8[]) WITH ORDINALITY AS t(f, g, a, k)`,
            [
              run.id,
              o.label,
              curve.meanF.map(float),
              curve.meanGap.map(float),
              curve.instances,
              curve.gapInstances,
              // acceptance[i] is of the step into iteration i + 1; iteration 0 has none.
              curve.meanF.map((_, k) => (curve.acceptance && k > 0 ? float(curve.acceptance[k - 1]) : null)),
            ],
          );
        }
      }
      for (const [name, content] of Object.entries(run.artifacts)) {
        await tx.query('INSERT INTO artifacts (run_id, name, content) VALUES ($1, $2, $3)', [run.id, name, bytes(content)]);
      }
      return { id: run.id, created: true };
    });
  }

  /** Runs with their optimizers' final gaps, newest first. */
  async listRuns(filter: RunFilter = {}): Promise<RunListing[]> {
    const where = whereClause(filter.where ?? [], 9);
    const { rows } = await this.sql.query<{
      id: string;
      name: string;
      problem: string;
      test_dataset: string;
      scale: string;
      seed: number;
      engine: string;
      created_at: Date | string;
      optimizers: { label: string; id: string; kind: string; finalGap: number | string | null; divergedAt: number | null }[];
    }>(
      `SELECT r.id, r.name, r.problem, r.test_dataset, r.scale, r.seed, r.engine, r.created_at,
              (SELECT coalesce(json_agg(json_build_object('label', o.label, 'id', o.optimizer_id, 'kind', o.kind,
                        'finalGap', CASE WHEN o.final_gap = 'NaN'::float8 OR o.final_gap IN ('Infinity', '-Infinity') THEN NULL ELSE o.final_gap END,
                        'divergedAt', o.diverged_at) ORDER BY o.position NULLS LAST, o.label), '[]'::json)
                 FROM run_optimizers o WHERE o.run_id = r.id) AS optimizers
         FROM runs r
        WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM run_optimizers m WHERE m.run_id = r.id AND m.optimizer_id = $1))
          AND ($2::text IS NULL OR r.problem = $2)
          AND ($3::text IS NULL OR r.test_dataset = $3)
          AND ($4::text IS NULL OR r.scale = $4)
          AND ($5::timestamptz IS NULL OR r.created_at >= $5)
          AND ($6::text IS NULL OR r.id = $6)
          AND ($7::text IS NULL OR r.name = $7)
          AND ($8::int IS NULL OR r.seed = $8)${where.sql}
        ORDER BY r.created_at DESC, r.id`,
      [
        filter.model ?? null,
        filter.problem ?? null,
        filter.dataset ?? null,
        filter.scale ?? null,
        filter.since?.toISOString() ?? null,
        filter.id ?? null,
        filter.name ?? null,
        filter.seed ?? null,
        ...where.params,
      ],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      problem: r.problem,
      testDataset: r.test_dataset,
      scale: r.scale,
      seed: r.seed,
      engine: r.engine,
      createdAt: new Date(r.created_at).toISOString(),
      optimizers: json<(RunListing['optimizers'][number] & { finalGap: number | string | null })[]>(r.optimizers).map((o) => ({
        ...o,
        finalGap: o.finalGap === null ? null : Number(o.finalGap),
      })),
    }));
  }

  /** A stored run's curves by optimizer label (mean F and mean relative gap per iteration). */
  async curves(id: string): Promise<Record<string, { meanF: number[]; meanGap: number[] }>> {
    const { rows } = await this.sql.query<{ label: string; mean_f: number | string; mean_gap: number | string }>(
      'SELECT label, mean_f, mean_gap FROM curves WHERE run_id = $1 ORDER BY label, iteration',
      [id],
    );
    const out: Record<string, { meanF: number[]; meanGap: number[] }> = {};
    for (const r of rows) {
      const c = (out[r.label] ??= { meanF: [], meanGap: [] });
      c.meanF.push(Number(r.mean_f));
      c.meanGap.push(Number(r.mean_gap));
    }
    return out;
  }

  /** A stored run as it was saved (summary, spec, curves, checkpoints, artifacts), or null. */
  async getRun(id: string): Promise<RunRecord | null> {
    const { rows } = await this.sql.query<Record<string, unknown>>('SELECT * FROM runs WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return null;
    const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
    const optimizers = (
      await this.sql.query<Record<string, unknown>>(
        'SELECT o.*, c.content AS checkpoint FROM run_optimizers o LEFT JOIN checkpoints c ON c.sha256 = o.checkpoint_sha256 WHERE o.run_id = $1 ORDER BY o.position NULLS LAST, o.label',
        [id],
      )
    ).rows;
    const curveRows = (
      await this.sql.query<{ label: string; mean_f: unknown; mean_gap: unknown; instances: number; gap_instances: number; accepted: unknown }>(
        'SELECT label, mean_f, mean_gap, instances, gap_instances, accepted FROM curves WHERE run_id = $1 ORDER BY label, iteration',
        [id],
      )
    ).rows;
    const artifacts = (await this.sql.query<{ name: string; content: Uint8Array }>('SELECT name, content FROM artifacts WHERE run_id = $1', [id])).rows;
    const instanceResults = optimizers.map((o) => parseInstanceResults(o.instance_results));
    const gapInstancesOf = (label: string) => curveRows.find((c) => c.label === label)?.gap_instances ?? 0;
    const summary: RunRecord['summary'] = {
      name: String(r.name),
      problem: { id: String(r.problem), options: json(r.problem_options) },
      trainDataset: { id: String(r.train_dataset), options: json(r.train_dataset_options) },
      testDataset: { id: String(r.test_dataset), options: json(r.test_dataset_options) },
      testInstances: Number(r.test_instances),
      iterations: Number(r.iterations),
      scale: String(r.scale),
      seed: Number(r.seed),
      engine: String(r.engine),
      training: json(r.training),
      optimizers: optimizers.map((o, i) => ({
        label: String(o.label),
        id: String(o.optimizer_id),
        kind: o.kind as 'learned' | 'baseline',
        options: json(o.options),
        finalGap: num(o.final_gap) ?? Number.NaN,
        finalF: num(o.final_f) ?? Number.NaN,
        iterationsTo: json(o.iterations_to),
        divergedAt: o.diverged_at === null ? null : Number(o.diverged_at),
        ...(o.parameters !== null ? { parameters: Number(o.parameters) } : {}),
        ...(o.training_seconds !== null ? { trainingSeconds: Number(o.training_seconds) } : {}),
        evaluationSeconds: Number(o.evaluation_seconds),
        ...(o.acceptance !== null && o.acceptance !== undefined ? { acceptance: Number(o.acceptance) } : {}),
        // From the curve, as the evaluator derives them (so older rows get them too).
        ...instanceMetrics({ gapInstances: gapInstancesOf(String(o.label)), ...instanceResults[i]!.gapQuantiles }),
        ...(o.pretrained !== null && o.pretrained !== undefined ? { pretrained: json<NonNullable<OptimizerSummary['pretrained']>>(o.pretrained) } : {}),
      })),
      createdAt: new Date(r.created_at as string).toISOString(),
      ...(r.test_data !== null && r.test_data !== undefined ? { testData: json<NonNullable<RunRecord['summary']['testData']>>(r.test_data) } : {}),
    };
    const curves = summary.optimizers.map((o, i) => {
      const points = curveRows.filter((c) => c.label === o.label);
      return {
        optimizer: o.label,
        instances: points[0]?.instances ?? summary.testInstances,
        gapInstances: points[0]?.gap_instances ?? 0,
        meanF: points.map((p) => Number(p.mean_f)),
        meanGap: points.map((p) => Number(p.mean_gap)),
        finalGap: o.finalGap,
        iterationsTo: o.iterationsTo,
        divergedAt: o.divergedAt ?? null,
        ...instanceResults[i]!.gapQuantiles,
        seconds: o.evaluationSeconds,
        ...(points.some((p) => p.accepted !== null) ? { acceptance: points.slice(1).map((p) => Number(p.accepted)) } : {}),
        ...instanceResults[i]!.provenance,
      };
    });
    const checkpoints = Object.fromEntries(
      optimizers.filter((o) => o.checkpoint).map((o) => [String(o.label), Buffer.from(o.checkpoint as Uint8Array).toString('utf8')]),
    );
    return {
      id,
      summary,
      spec: json(r.spec),
      curves,
      checkpoints,
      artifacts: Object.fromEntries(artifacts.map((a) => [a.name, new Uint8Array(a.content)])),
      versions: json(r.versions),
      ...(typeof r.git_commit === 'string' && r.git_commit ? { gitCommit: r.git_commit } : {}),
    };
  }

  /** Deletes a run (its curves and artifacts with it; checkpoints stay, other runs may share them). */
  /**
   * Stores a finished training (its checkpoint by SHA-256, shared with runs that use the same
   * one) in one transaction; the same id again changes nothing.
   */
  async saveTraining(t: TrainingRecord): Promise<{ id: string; created: boolean }> {
    return this.sql.transaction(async (tx) => {
      const sha = sha256(t.checkpoint);
      const parsed = JSON.parse(t.checkpoint) as { modelId: string; config: unknown };
      await tx.query(`INSERT INTO checkpoints (sha256, model_id, config_hash, content) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING`, [
        sha,
        parsed.modelId,
        configHash(parsed.config),
        bytes(t.checkpoint),
      ]);
      const inserted = await tx.query(
        `INSERT INTO trainings (id, model_id, problem, problem_options, dataset, dataset_options, training, seed, engine,
           checkpoint_sha256, best_step, best_loss, seconds, versions, git_commit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          t.id,
          t.modelId,
          t.problem.id,
          stableStringify(t.problem.options),
          t.dataset.id,
          stableStringify(t.dataset.options),
          stableStringify(t.training),
          t.training.seed,
          t.engine,
          sha,
          t.best?.step ?? null,
          t.best ? float(t.best.loss) : null,
          t.seconds,
          stableStringify(t.versions),
          t.gitCommit ?? null,
          t.createdAt,
        ],
      );
      return { id: t.id, created: inserted.rows.length > 0 };
    });
  }

  /** Stored trainings, newest first; `model` keeps one model's. */
  async listTrainings(filter: { model?: string } = {}): Promise<TrainingListing[]> {
    const { rows } = await this.sql.query<Record<string, unknown>>(
      `SELECT * FROM trainings WHERE ($1::text IS NULL OR model_id = $1) ORDER BY created_at DESC, id`,
      [filter.model ?? null],
    );
    return rows.map((r) => ({
      id: String(r.id),
      modelId: String(r.model_id),
      problem: String(r.problem),
      dataset: String(r.dataset),
      seed: Number(r.seed),
      globalSteps: Number(json<{ globalSteps: number }>(r.training).globalSteps),
      bestLoss: r.best_loss === null ? null : Number(r.best_loss),
      bestStep: r.best_step === null ? null : Number(r.best_step),
      seconds: Number(r.seconds),
      engine: String(r.engine),
      checkpointSha256: String(r.checkpoint_sha256),
      createdAt: new Date(r.created_at as string).toISOString(),
    }));
  }

  /** The checkpoints of stored runs' learned optimizers, newest run first (without their content). */
  async listCheckpoints(): Promise<CheckpointListing[]> {
    const { rows } = await this.sql.query<{
      run_id: string;
      label: string;
      optimizer_id: string;
      sha256: string;
      problem: string;
      problem_options: unknown;
      train_dataset: string;
      train_dataset_options: unknown;
      created_at: Date | string;
    }>(
      `SELECT o.run_id, o.label, o.optimizer_id, o.checkpoint_sha256 AS sha256, r.problem, r.problem_options,
              r.train_dataset, r.train_dataset_options, r.created_at
         FROM run_optimizers o JOIN runs r ON r.id = o.run_id
        WHERE o.checkpoint_sha256 IS NOT NULL
        ORDER BY r.created_at DESC, r.id, o.position NULLS LAST, o.label`,
    );
    return rows.map((r) => ({
      runId: r.run_id,
      label: r.label,
      modelId: r.optimizer_id,
      sha256: r.sha256,
      problem: { id: r.problem, options: json<Record<string, unknown>>(r.problem_options) },
      trainDataset: { id: r.train_dataset, options: json<Record<string, unknown>>(r.train_dataset_options) },
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** A stored checkpoint's JSON text by its SHA-256, or null. */
  async getCheckpoint(sha256: string): Promise<string | null> {
    const { rows } = await this.sql.query<{ content: Uint8Array }>('SELECT content FROM checkpoints WHERE sha256 = $1', [sha256]);
    const r = rows[0];
    return r ? Buffer.from(r.content).toString('utf8') : null;
  }

  async deleteRun(id: string): Promise<boolean> {
    const { rows } = await this.sql.query('DELETE FROM runs WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  }

  /**
   * Stores a sweep job's result (a checkpoint, resume checkpoint or evaluation, as text) by its
   * key. A result is written once per key: without `replace` a key already there is kept and
   * false returned; with `replace` its content and kind are overwritten.
   */
  async putJobResult(key: string, kind: string, content: string, options: { replace?: boolean } = {}): Promise<boolean> {
    if (options.replace) {
      await this.sql.query(
        `INSERT INTO job_results (key, kind, content) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, content = EXCLUDED.content, updated_at = now()`,
        [key, kind, bytes(content)],
      );
      return true;
    }
    const { rows } = await this.sql.query('INSERT INTO job_results (key, kind, content) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key', [
      key,
      kind,
      bytes(content),
    ]);
    return rows.length > 0;
  }

  /** A sweep job's stored result as text, or null when its key has none. */
  async getJobResult(key: string): Promise<string | null> {
    const { rows } = await this.sql.query<{ content: Uint8Array }>('SELECT content FROM job_results WHERE key = $1', [key]);
    const r = rows[0];
    return r ? Buffer.from(r.content).toString('utf8') : null;
  }

  /** Deletes a sweep job's result; false when its key had none. */
  async deleteJobResult(key: string): Promise<boolean> {
    const { rows } = await this.sql.query('DELETE FROM job_results WHERE key = $1 RETURNING key', [key]);
    return rows.length > 0;
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}

/** The per-instance parts of a curve, as stored (null when the curve has none). */
function instanceResultsText(curve: EvaluationCurve | undefined): string | null {
  if (!curve || (curve.perInstance === undefined && curve.gapQuantiles === undefined && curve.float64 === undefined)) return null;
  const { gapQuantiles, perInstance, float64, resolution } = curve;
  return JSON.stringify({ gapQuantiles, perInstance, float64, resolution });
}

/** Back into a curve's fields, in the order the evaluator writes them (a run directory's JSON is byte for byte). */
function parseInstanceResults(text: unknown): {
  gapQuantiles: Pick<EvaluationCurve, 'gapQuantiles' | 'perInstance'>;
  provenance: Pick<EvaluationCurve, 'float64' | 'resolution'>;
} {
  if (typeof text !== 'string') return { gapQuantiles: {}, provenance: {} };
  const parsed = JSON.parse(text) as Pick<EvaluationCurve, 'gapQuantiles' | 'perInstance' | 'float64' | 'resolution'>;
  return {
    gapQuantiles: {
      ...(parsed.gapQuantiles !== undefined ? { gapQuantiles: parsed.gapQuantiles } : {}),
      ...(parsed.perInstance !== undefined ? { perInstance: parsed.perInstance } : {}),
    },
    provenance: {
      ...(parsed.float64 !== undefined ? { float64: parsed.float64 } : {}),
      ...(parsed.resolution !== undefined ? { resolution: parsed.resolution } : {}),
    },
  };
}
