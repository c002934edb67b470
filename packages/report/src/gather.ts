import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { L2oError, loadExperimentSpec, newestPerSeed, type RunRecord } from '@l2o/core';
import { keptForm, mergeFigureData, readFigureData, readFigureDataFile, validationSeriesOf, type FigureData } from './figure-data.js';
import type { FigureRuns } from './results.js';
import type { ParameterCounts } from './verdicts.js';
import type { StoppedTraining } from './stability.js';

/** The part of a run store gathering reads (an open @l2o/store store). */
export interface ResultsRunSource {
  listRuns(filter: { name: string; scale: string }): Promise<readonly { id: string; seed: number; createdAt: string }[]>;
  getRun(id: string): Promise<RunRecord | null>;
}

/** The models' registry, for their parameter counts. */
export interface ModelRegistry {
  get(
    kind: 'model',
    id: string,
  ): {
    create(o: Record<string, unknown>): { parameterCount(): number; dispose(): void };
    defaultConfig(): Record<string, unknown>;
  };
}

export interface GatherResultsOptions {
  store: ResultsRunSource;
  registry: ModelRegistry;
  /** The experiments (spec names) whose figures are made. */
  names: readonly string[];
  scale: string;
  /** The pages' folder: runs kept in its data/ by earlier generations are merged in. */
  outDir: string;
  /** Other folders of kept runs, <dir>/<figure>.json. */
  keptDirs?: readonly string[];
  /** The command that makes these pages again (written on each page). */
  regenerate: string;
}

export interface GatheredResults {
  figures: FigureRuns[];
  parameters: ParameterCounts | null;
}

/**
 * What `l2o results` makes its pages from: per figure, the newest run of each seed at `scale` from
 * the store merged with the runs kept beside the pages (and in `keptDirs`), with their provenance,
 * and the models' parameter counts. An L2oError when no figure has a run.
 */
export async function gatherResults(options: GatherResultsOptions): Promise<GatheredResults> {
  const { store, names, scale, outDir } = options;
  const parameters = parameterCounts(options.registry);
  const stored: FigureData[] = [];
  for (const name of names) {
    const records: RunRecord[] = [];
    for (const r of newestPerSeed(await store.listRuns({ name, scale }))) records.push((await store.getRun(r.id))!);
    stored.push(
      keptForm({
        name,
        runs: records.map((r) => ({ id: r.id, summary: r.gitCommit ? { ...r.summary, gitCommit: r.gitCommit } : r.summary, curves: r.curves })),
        validation: records.flatMap((r) => validationSeriesOf(r.summary.seed, r.artifacts)),
      }),
    );
  }
  // The store's runs first (they win a tie), then those kept beside the pages by earlier
  // generations; the store's with their numbers rounded as kept, so either gives the same page.
  const figures: FigureRuns[] = stored.flatMap((fromStore) => {
    const kept = [
      readFigureData(outDir, fromStore.name),
      ...(options.keptDirs ?? []).map((dir) => readFigureDataFile(path.resolve(dir, `${fromStore.name}.json`), fromStore.name)),
    ];
    const atScale = kept.map((k) => (k?.runs.every((r) => r.summary.scale === scale) ? k : null));
    const merged = mergeFigureData(fromStore.name, [fromStore, ...atScale]);
    if (!merged) return [];
    const stopped = (options.keptDirs ?? []).flatMap((dir) => stoppedTrainings(dir, merged.name, scale));
    const seeds = merged.runs.map((r) => r.summary.seed);
    const engines = [...new Set(merged.runs.map((r) => r.summary.engine))];
    return [
      {
        ...merged,
        commits: [...new Set(merged.runs.flatMap((r) => (r.summary.gitCommit ? [r.summary.gitCommit.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1')] : [])))],
        engines,
        reproduce: `${kernelsPrefix(engines)}l2o sweep ${specPath(merged.name)} --scale ${scale} --seeds ${seeds.join(',')}`,
        regenerate: options.regenerate,
        ...statedDeviations(merged.name, scale),
        ...(stopped.length ? { stopped } : {}),
      },
    ];
  });
  if (!figures.length)
    throw new L2oError(
      `No stored or kept runs of ${names.join(', ')} at scale '${scale}'.`,
      `Run them first, e.g. l2o sweep experiments/paper/${names[0]}.yaml --scale ${scale} --seeds 0..2.`,
    );
  return { figures, parameters };
}

/** An experiment's spec in the checkout at `root`, experiments/<folder>/<name>.yaml (the paper's folder when none is found). */
function specPath(name: string, root = '.'): string {
  const experiments = path.join(root, 'experiments');
  const folders = existsSync(experiments) ? readdirSync(experiments) : [];
  return `experiments/${folders.find((f) => existsSync(path.join(experiments, f, `${name}.yaml`))) ?? 'paper'}/${name}.yaml`;
}

/** The deviations from the papers' protocol that the figure's spec (in the checkout at `root`) states for the scale, with the spec's path. */
export function statedDeviations(name: string, scale: string, root = '.'): Pick<FigureRuns, 'deviations'> {
  const spec = specPath(name, root);
  const file = path.join(root, spec);
  if (!existsSync(file)) return {};
  const deviations = loadExperimentSpec(file).scales?.[scale]?.deviations ?? [];
  return deviations.length ? { deviations: { spec, items: deviations } } : {};
}

/**
 * Runs on WASM without the platform's kernels (engine 'wasm', not 'wasm+l2o-kernels': every run
 * made before they existed) are reproduced to the digit only with tfjs's kernels alone.
 */
function kernelsPrefix(engines: string[]): string {
  return engines.includes('wasm') && !engines.some((e) => e.endsWith('+l2o-kernels')) ? 'L2O_KERNELS=tfjs ' : '';
}

/** lstm's and gru's parameter counts at their defaults, and the gru hidden sizes that give 65–75% of lstm's. */
export function parameterCounts(registry: ModelRegistry): ParameterCounts | null {
  const count = (id: string, options: Record<string, unknown> = {}) => {
    const model = registry.get('model', id).create(options);
    try {
      return model.parameterCount();
    } finally {
      model.dispose();
    }
  };
  const lstm = count('lstm');
  const paperRange: ParameterCounts['paperRange'] = [];
  for (let hidden = 1; hidden <= 64; hidden++) {
    const parameters = count('gru', { hidden });
    if (parameters >= 0.65 * lstm && parameters <= 0.75 * lstm) paperRange.push({ hidden, parameters });
  }
  const hidden = (id: string) => Number(registry.get('model', id).defaultConfig().hidden);
  return { lstm, gru: count('gru'), lstmHidden: hidden('lstm'), gruHidden: hidden('gru'), paperRange };
}

/**
 * The trainings of `figure` at `scale` that a campaign recorded as failed (a non-finite loss stops
 * a training under the paper protocol), from the campaign's plan.json beside its kept runs
 * (`<dir>/../plan.json`, as `l2o campaign run` writes campaigns/<name>/); none without one.
 */
export function stoppedTrainings(keptDir: string, figure: string, scale: string): StoppedTraining[] {
  const file = path.resolve(keptDir, '..', 'plan.json');
  if (!existsSync(file)) return [];
  let plan: unknown;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  const entries = (plan as { entries?: unknown }).entries;
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((e): e is { figure: string; scale: string; jobs: Record<string, { kind?: string; label?: string; seed?: number; failed?: string }> } => {
      const x = e as { figure?: unknown; scale?: unknown; jobs?: unknown };
      return x.figure === figure && x.scale === scale && typeof x.jobs === 'object' && x.jobs !== null;
    })
    .flatMap((e) =>
      Object.values(e.jobs).flatMap((j) =>
        j.kind === 'train' && typeof j.failed === 'string' && typeof j.label === 'string' && typeof j.seed === 'number'
          ? [{ label: j.label, seed: j.seed, message: j.failed }]
          : [],
      ),
    )
    .sort((a, b) => a.seed - b.seed || a.label.localeCompare(b.label));
}
