// The read-only API as the page sees it: one fetch helper and the shapes of its answers.
import type { RunListing } from '@l2o/store';
import type { Figure } from '../server/server.js';

export type Json = Record<string, unknown>;
/** A row of /api/runs (the store's listing; a type only: nothing of the store is bundled). */
export type RunRow = RunListing;

/** A run's summary as /api/runs/:id gives it (core's RunSummary). */
export interface OptimizerView {
  label: string;
  id: string;
  kind: string;
  finalGap: number;
  finalF: number;
  iterationsTo: Record<string, number | null>;
  divergedAt: number | null;
  /** The median over instances of the final gap (null: it diverged), and the instances that diverged, of those with a gap. */
  medianFinalGap?: number | null;
  divergedInstances?: number;
  gapInstances?: number;
  parameters?: number;
  trainingSeconds?: number;
  evaluationSeconds: number;
  acceptance?: number;
}
export interface SummaryView {
  name: string;
  problem: { id: string };
  trainDataset: { id: string };
  testDataset: { id: string };
  testInstances: number;
  iterations: number;
  scale: string;
  seed: number;
  engine: string;
  optimizers: OptimizerView[];
}

/** A figure of /api/figures: the store's runs of an experiment at a scale, or its kept data (`l2o results`) when the store has none. */
export interface FigureListing extends Figure {
  source: 'store' | 'kept';
  /** Where kept data was read: <results>/data/<name>.json. */
  keptFile?: string;
  verdict: string | null;
}

export interface SweepStatusView {
  id: string;
  name: string;
  cancelled: boolean;
  counts: Record<string, number>;
  etaSeconds: number | null;
  finished: boolean;
  jobs: {
    id: string;
    kind: string;
    label?: string;
    seed: number;
    state: string;
    attempts: number;
    progress?: { done?: number; total?: number };
    error?: string;
  }[];
}

export async function api<T = Json>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}
