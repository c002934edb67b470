import { UsageError } from '../errors.js';
import type { InstanceSet } from './instances.js';
import type { Rng } from '../random/rng.js';

export type Split = 'train' | 'validation' | 'test';

export interface DatasetRequest {
  problem: string;
  split: Split;
  /** How many instances; a dataset with a fixed number of instances may return fewer. */
  count: number;
  /** The generator for this request: draws come from it and nothing else. */
  rng: Rng;
  /** Dataset options (size preset, m, n, s, λ, data directory, ...). */
  options: Record<string, unknown>;
}

export interface DatasetContext {
  /** Directory holding raw files laid out as bsds500/images/test/*.jpg, uci/ionosphere.data, uci/spambase.data (flag, env or config). */
  dataDir?: string;
  /** Cache root (XDG cache dir by default). */
  cacheDir: string;
  /** Whether a download from the official source is allowed. */
  allowDownload: boolean;
  /** Progress and notes (hidden in --quiet and --json modes). */
  log: (line: string) => void;
  /** Something the user should know even in --quiet and --json modes (on stderr); defaults to log. */
  warn?: (line: string) => void;
}

/** Where a dataset's raw files are and where they come from (`l2o datasets info`). */
export interface DatasetInfo {
  id: string;
  serves: readonly string[];
  description: string;
  /** Generated data needs no files. */
  needsFiles: boolean;
  present: boolean;
  /** Where the raw files were found: the data directory or the cache. */
  location?: string;
  sizeBytes?: number;
  /** Official source(s) a download uses. */
  sources?: string[];
  /** SHA-256 of the raw files the dataset accepts. */
  checksums?: Record<string, string>;
  citation?: string;
}

export type DownloadProgress = (doneBytes: number, totalBytes: number | undefined, what: string) => void;

/** A source of problem instances; it declares the problems it serves. */
export interface Dataset {
  readonly id: string;
  /** Problem ids this dataset can produce instances for. */
  readonly serves: readonly string[];
  /** True when its instances are a fixed finite set (real data), false for a generator. */
  readonly fixed: boolean;
  instances(request: DatasetRequest, ctx: DatasetContext): Promise<InstanceSet>;
  /** Provenance and presence of the raw files. */
  describe(ctx: DatasetContext): Promise<DatasetInfo>;
  /** Downloads, verifies and caches the raw files (a no-op for generated data). */
  fetch?(ctx: DatasetContext, onProgress?: DownloadProgress): Promise<DatasetInfo>;
}

/** Fails unless the dataset can produce instances of the problem. */
export function checkServes(dataset: Dataset, problemId: string): void {
  if (!dataset.serves.includes(problemId)) {
    throw new UsageError(`Dataset '${dataset.id}' does not serve problem '${problemId}'.`, `It serves: ${dataset.serves.join(', ')}.`);
  }
}
