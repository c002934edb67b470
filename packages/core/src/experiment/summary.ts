import type { PretrainedProvenance } from '../contracts/plugin.js';

export interface OptimizerSummary {
  label: string;
  id: string;
  kind: 'learned' | 'baseline';
  options: Record<string, unknown>;
  /** A hand-designed optimizer evaluated with its own problem options (e.g. another step-size rule). */
  problemOptions?: Record<string, unknown>;
  finalGap: number;
  finalF: number;
  iterationsTo: Record<string, number | null>;
  /** First iteration with a non-finite mean F, or null (older summaries lack it). */
  divergedAt?: number | null;
  /** The median over instances of the final gap: what most instances reached when a few diverged (older summaries lack it). */
  medianFinalGap?: number;
  /** Of the `gapInstances` instances with a gap, those that diverged (PerInstanceResults.diverged; older summaries lack both). */
  divergedInstances?: number;
  gapInstances?: number;
  /** Weights from an installed pretrained package, and how they were trained: this run trained nothing for it. */
  pretrained?: { name: string; trainedWith: PretrainedProvenance };
  parameters?: number;
  trainingSeconds?: number;
  evaluationSeconds: number;
  /** A safeguarded learned optimizer: the fraction of its steps (over instances and iterations) that kept the learned step. */
  acceptance?: number;
}

/** The contents of a run's summary.json (rendered for people by a RunRenderer, e.g. @l2o/report). */
export interface RunSummary {
  name: string;
  problem: { id: string; options: Record<string, unknown> };
  trainDataset: { id: string; options: Record<string, unknown> };
  testDataset: { id: string; options: Record<string, unknown> };
  testInstances: number;
  iterations: number;
  scale: string;
  seed: number;
  engine: string;
  training: Record<string, unknown>;
  optimizers: OptimizerSummary[];
  createdAt: string;
  /** The commit of the l2o checkout whose code made the run ('-dirty': with uncommitted changes); none for an installed package. */
  gitCommit?: string;
  /** The raw files of a real test dataset (none for generated data). */
  testData?: TestDataRecord;
}

/**
 * Which raw files a run's test set came from: the dataset reads only files with these official
 * checksums (checked when the data directory is used, or when the cache was filled).
 */
export interface TestDataRecord {
  dataset: string;
  /** Where the files were found when the run was written. */
  location?: string;
  files: number;
  /** SHA-256 of the manifest: one line `<path> <sha256>` per file, sorted by path. */
  manifestSha256: string;
}
