import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  comparisonJobs,
  LIMITS,
  loadExperimentSpec,
  MAX_SEED,
  MAX_SWEEP_SEEDS,
  parseIntegerText,
  resolveExperiment,
  UsageError,
  type ComparisonSpec,
  type Platform,
} from '@l2o/core';

/** One `--grid target.key=v1,v2` axis: the option `key` (dotted path) of an optimizer (label or id) or of the problem. */
export interface GridAxis {
  target: string;
  key: string;
  values: unknown[];
}

/** What a sweep was asked to run: a spec at a scale, over seeds and the points of a grid. */
export interface SweepRequest {
  /** The spec file, absolute. */
  spec: string;
  scale: string;
  /** The seeds (none: the spec's own). */
  seeds: number[];
  grid: GridAxis[];
}

/** One comparison of a sweep: the spec at one seed and one grid point, and its jobs' keys. */
export interface SweepComparison {
  runId: string;
  seed: number;
  /** `target.key` → value at this grid point ({} without a grid). */
  point: Record<string, unknown>;
  comparison: ComparisonSpec;
}

/** A training, an evaluation or the writing of a run: a unit of work that any worker can take. */
export type SweepJob =
  | { kind: 'train'; key: string; label: string; comparison: ComparisonSpec }
  | { kind: 'evaluate'; key: string; label: string; comparison: ComparisonSpec; train?: string }
  | { kind: 'run'; key: string; comparison: ComparisonSpec; evaluations: string[] };

export interface SweepPlan {
  name: string;
  request: SweepRequest;
  comparisons: SweepComparison[];
  /** Every job once (a training shared by comparisons is listed once), each after the jobs it needs. */
  jobs: SweepJob[];
}

/** Whether a comparison's run directory under `runsDir` is written (its summary.json is there). */
export function runWritten(runsDir: string, runId: string): boolean {
  return existsSync(path.join(runsDir, runId, 'summary.json'));
}

/**
 * The keys of the jobs the runs not `done` need: those runs, the evaluations they gather and the
 * trainings those evaluations read. What a sweep runs, what its estimate counts and what a
 * campaign still has to do are all this set.
 */
export function jobsNeeded(plan: Pick<SweepPlan, 'jobs'>, done: (runId: string) => boolean): Set<string> {
  const needed = new Set<string>();
  for (const job of plan.jobs) {
    if (job.kind !== 'run' || done(job.key)) continue;
    needed.add(job.key);
    for (const e of job.evaluations) needed.add(e);
  }
  for (const job of plan.jobs) if (job.kind === 'evaluate' && needed.has(job.key) && job.train) needed.add(job.train);
  return needed;
}

/**
 * `0..4` (inclusive), `0,3,7`, or one seed. Each is a seed the store can keep (0..MAX_SEED), and a
 * sweep has at most MAX_SWEEP_SEEDS: its runs are all planned and listed before the first starts.
 */
export function parseSeeds(text: string): number[] {
  const range = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  const seed = (digits: string) => parseIntegerText(`--seeds ${text}: each seed`, digits, LIMITS.seed);
  let seeds: number[];
  if (range) {
    const [from, to] = [seed(range[1]!), seed(range[2]!)];
    if (to < from) throw new UsageError(`--seeds ${text}: the range ends before it starts.`, 'Write it as FROM..TO with FROM ≤ TO, e.g. 0..4.');
    checkSeedCount(text, to - from + 1, from);
    seeds = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  } else {
    const parts = text.split(',').map((s) => s.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--seeds ${text} is not a list of seeds.`, 'Give 0..4 (a range) or 0,3,7 (a list).');
    checkSeedCount(text, parts.length, 0);
    seeds = parts.map(seed);
  }
  const repeated = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (repeated !== undefined) throw new UsageError(`--seeds ${text} lists seed ${repeated} twice.`);
  return seeds;
}

function checkSeedCount(text: string, count: number, from: number): void {
  if (count <= MAX_SWEEP_SEEDS) return;
  const first = Math.min(from + MAX_SWEEP_SEEDS - 1, MAX_SEED);
  throw new UsageError(
    `--seeds ${text} gives ${count} seeds; a sweep takes at most ${MAX_SWEEP_SEEDS}.`,
    `Split it into sweeps of at most ${MAX_SWEEP_SEEDS} seeds, e.g. --seeds ${from}..${first}, then --seeds ${first + 1}..${Math.min(first + MAX_SWEEP_SEEDS, MAX_SEED)}.`,
  );
}

/** `gru-mha.heads=1,2,4`: values are JSON where they parse (numbers, booleans), text otherwise. */
export function parseGridAxis(text: string): GridAxis {
  const m = /^([^.=]+)\.([^=]+)=(.+)$/.exec(text);
  if (!m) throw new UsageError(`--grid ${text} is not of the form <id>.<option>=<v1>,<v2>,…`, 'Example: --grid gru-mha.heads=1,2,4');
  const values = m[3]!.split(',').map((raw) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  });
  return { target: m[1]!, key: m[2]!, values };
}

function withOption(options: Record<string, unknown> | undefined, key: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(options ?? {});
  const parts = key.split('.');
  let node = out;
  for (const part of parts.slice(0, -1)) {
    node[part] = typeof node[part] === 'object' && node[part] !== null ? structuredClone(node[part]) : {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
  return out;
}

/** The comparison at one grid point: each axis sets an option of the optimizers it names (label or id) or of the problem. */
function atPoint(base: ComparisonSpec, grid: readonly GridAxis[], point: readonly unknown[]): ComparisonSpec {
  let spec = structuredClone(base);
  grid.forEach((axis, i) => {
    const value = point[i];
    const optimizers = spec.optimizers.filter((o) => (o.label ?? o.id) === axis.target || o.id === axis.target);
    if (optimizers.length) {
      spec.optimizers = spec.optimizers.map((o) => (optimizers.includes(o) ? { ...o, options: withOption(o.options, axis.key, value) } : o));
    } else if (spec.problem.id === axis.target) {
      spec = { ...spec, problem: { ...spec.problem, options: withOption(spec.problem.options, axis.key, value) } };
    } else {
      const targets = [...new Set([...spec.optimizers.map((o) => o.label ?? o.id), spec.problem.id])];
      throw new UsageError(
        `--grid ${axis.target}.${axis.key}: '${axis.target}' is neither an optimizer nor the problem of ${base.name}.`,
        `Use one of: ${targets.join(', ')}.`,
      );
    }
  });
  return spec;
}

/** Every combination of the axes' values (one empty point without a grid). */
function gridPoints(grid: readonly GridAxis[]): unknown[][] {
  return grid.reduce<unknown[][]>((points, axis) => points.flatMap((p) => axis.values.map((v) => [...p, v])), [[]]);
}

/** A sweep's id: its experiment, scale and a hash of what it runs (the same request, the same id). */
export function sweepIdOf(plan: SweepPlan): string {
  const hash = createHash('sha256')
    .update(plan.comparisons.map((c) => c.runId).join('\n'))
    .digest('hex')
    .slice(0, 10);
  return `sweep-${plan.name}-${plan.request.scale}-${hash}`;
}

/**
 * Expands a spec into the sweep's comparisons (seed × grid point) and their jobs; every id,
 * option and path is checked here, before any work. Labels stay those of the spec, so runs of
 * one grid point aggregate over their seeds.
 */
export function planSweep(platform: Platform, request: SweepRequest): SweepPlan {
  const spec = loadExperimentSpec(request.spec);
  const base = resolveExperiment(spec, path.relative(process.cwd(), request.spec) || request.spec, request.scale, platform.registry);
  const comparisons: SweepComparison[] = [];
  const jobs: SweepJob[] = [];
  const listed = new Set<string>();
  // No seeds given: the spec's own seed (its `seed:`, 0 by default).
  const seeds = request.seeds.length ? request.seeds : [base.seed];
  for (const values of gridPoints(request.grid)) {
    const point = Object.fromEntries(request.grid.map((axis, i) => [`${axis.target}.${axis.key}`, values[i]]));
    const atGrid = atPoint(base, request.grid, values);
    for (const seed of seeds) {
      const comparison: ComparisonSpec = { ...atGrid, seed, ...(request.grid.length ? { grid: point } : {}) };
      const planned = comparisonJobs(platform, comparison);
      comparisons.push({ runId: planned.runId, seed, point, comparison });
      for (const o of planned.optimizers) {
        if (o.train && !listed.has(o.train.key)) jobs.push({ kind: 'train', key: o.train.key, label: o.label, comparison });
        if (!listed.has(o.evaluate.key))
          jobs.push({ kind: 'evaluate', key: o.evaluate.key, label: o.label, comparison, ...(o.train ? { train: o.train.key } : {}) });
        if (o.train) listed.add(o.train.key);
        listed.add(o.evaluate.key);
      }
      jobs.push({ kind: 'run', key: planned.runId, comparison, evaluations: planned.optimizers.map((o) => o.evaluate.key) });
    }
  }
  return { name: base.name, request: { ...request, seeds }, comparisons, jobs };
}
