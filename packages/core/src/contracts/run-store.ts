import type { EvaluationCurve } from '../evaluate/evaluator.js';
import type { RunSummary } from '../experiment/summary.js';
import type { TrainOptions } from '../train/trainer.js';

/** Everything a finished run produced, as `l2o run` and `l2o experiment run` make it. */
export interface RunRecord {
  /** Unique per run: the name of its run directory. */
  id: string;
  summary: RunSummary;
  /** The resolved spec (config.json of the run directory). */
  spec: unknown;
  curves: EvaluationCurve[];
  /** Checkpoint JSON by optimizer label (learned optimizers). */
  checkpoints: Record<string, string>;
  /** Other files of the run directory (plots, summaries, training logs) by relative path. */
  artifacts: Record<string, string | Uint8Array>;
  /** Package name → version of what produced the run. */
  versions: Record<string, string>;
  gitCommit?: string;
}

/**
 * Where finished runs go besides their run directory. runComparison resolves it from the
 * platform's container under `TOKENS.RunStore` when the host registered one (the CLI registers
 * @l2o/store's) and stores each run in one transaction. Implementations: @l2o/store.
 */
export interface RunStore {
  /** Where the runs go, for messages (a folder, or a server URL without its password). */
  readonly location: string;
  /** Stores a run; storing the same id again changes nothing. */
  saveRun(run: RunRecord): Promise<{ id: string; created: boolean }>;
  /** Stores a finished `l2o train`; storing the same id again changes nothing. */
  saveTraining(training: TrainingRecord): Promise<{ id: string; created: boolean }>;
}

/** What a finished `l2o train` produced: the checkpoint of its best weights and how it was trained. */
export interface TrainingRecord {
  /** `train-<model>-<first 12 hex digits of the checkpoint's SHA-256>`: one per distinct checkpoint. */
  id: string;
  modelId: string;
  problem: { id: string; options: Record<string, unknown> };
  dataset: { id: string; options: Record<string, unknown> };
  training: TrainOptions;
  engine: string;
  /** The checkpoint JSON, as written to the --out file. */
  checkpoint: string;
  best: { step: number; loss: number } | null;
  seconds: number;
  versions: Record<string, string>;
  gitCommit?: string;
  createdAt: string;
}
