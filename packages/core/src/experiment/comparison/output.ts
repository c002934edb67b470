// A comparison's run: its summary and provenance, the run directory, and the copy in the host's RunStore.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { L2oError } from '../../errors.js';
import { TOKENS, type Platform } from '../../container.js';
import type { RunRenderer } from '../../contracts/run-renderer.js';
import type { RunStore } from '../../contracts/run-store.js';
import type { EvaluationCurve } from '../../evaluate/evaluator.js';
import { stableStringify } from '../../util/stable-json.js';
import { newRunDirName, writeRunDir, type RunFiles } from '../../store/run-store.js';
import { engineLabel } from '../../engine/extensions.js';
import { getScale } from '../scales.js';
import type { RunSummary, TestDataRecord } from '../summary.js';
import { disposeModels, prepareComparison, type ComparisonSpec, type PreparedComparison } from './prepare.js';
import type { EvaluatedOptimizer } from './jobs.js';

export interface ComparisonResult {
  runDir: string;
  summary: RunSummary;
  curves: EvaluationCurve[];
  /** Where the run was stored, when the host registered a RunStore. */
  stored?: { id: string; location: string };
}

/**
 * Writes the run of a comparison from its optimizers' evaluations (in the spec's order) and
 * stores it when the platform has a RunStore. `runId` names the run directory (default: a new
 * time-stamped name); a sweep passes the comparison's own id, so a run is written once.
 */
export async function writeComparisonRun(
  platform: Platform,
  spec: ComparisonSpec,
  evaluated: readonly EvaluatedOptimizer[],
  options: { runId?: string } = {},
): Promise<ComparisonResult> {
  const prepared = prepareComparison(platform, spec);
  disposeModels(prepared);
  return writeRun(platform, prepared, spec, evaluated, options.runId);
}

/** The raw files behind a real test dataset, for the run's summary; nothing for generated data. */
async function testDataOf(platform: Platform, datasetId: string): Promise<{ testData?: TestDataRecord }> {
  const dataset = platform.registry.get('dataset', datasetId).create({});
  if (!dataset.fixed) return {};
  const info = await dataset.describe(platform.datasetContext);
  if (!info.checksums) return {};
  const manifest = Object.entries(info.checksums)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, sha]) => `${file} ${sha}\n`)
    .join('');
  return {
    testData: {
      dataset: datasetId,
      ...(info.location ? { location: info.location } : {}),
      files: Object.keys(info.checksums).length,
      manifestSha256: createHash('sha256').update(manifest).digest('hex'),
    },
  };
}

export async function writeRun(
  platform: Platform,
  prepared: PreparedComparison,
  spec: ComparisonSpec,
  evaluated: readonly EvaluatedOptimizer[],
  runId?: string,
): Promise<ComparisonResult> {
  const { trainDataset, trainDatasetOptions, testRequest, testOpts, trainOpts } = prepared;
  const labels = prepared.built.map((b) => b.label);
  const given = evaluated.map((e) => e.summary.label);
  if (given.join('\n') !== labels.join('\n')) {
    throw new L2oError(`A run of '${spec.name}' needs the evaluations of ${labels.join(', ')} in that order, got ${given.join(', ') || 'none'}.`);
  }
  const scale = getScale(spec.scale);
  const files: RunFiles = Object.assign({}, ...evaluated.map((e) => e.files)) as RunFiles;
  const curves = evaluated.map((e) => e.curve);
  const summary: RunSummary = {
    name: spec.name,
    problem: testRequest.problem,
    trainDataset: { id: trainDataset.id, options: trainDatasetOptions },
    testDataset: testRequest.dataset,
    testInstances: curves[0]?.instances ?? testRequest.count,
    iterations: testOpts.iterations,
    scale: scale.name,
    seed: spec.seed,
    engine: engineLabel(platform.engine.chosen),
    training: { ...trainOpts },
    optimizers: evaluated.map((e) => e.summary),
    createdAt: new Date().toISOString(),
    ...(platform.settings.gitCommit ? { gitCommit: platform.settings.gitCommit } : {}),
    ...(await testDataOf(platform, testRequest.dataset.id)),
  };
  files['config.json'] =
    `${JSON.stringify(JSON.parse(stableStringify({ spec, scale, training: trainOpts, test: testOpts, reference: testRequest.reference })), null, 2)}\n`;
  files['summary.json'] = `${JSON.stringify(summary, null, 2)}\n`;
  // Plots and summary.md come from the host's renderer (the CLI registers @l2o/report's), if any.
  const renderer = platform.optional<RunRenderer>(TOKENS.RunRenderer);
  if (renderer) Object.assign(files, await renderer.render(summary, curves));
  const { runsDir } = platform.settings;
  const runDir = await writeRunDir(runId ? path.join(runsDir, runId) : newRunDirName(runsDir, spec.name), files);
  const store = platform.optional<RunStore>(TOKENS.RunStore);
  const stored = store ? await storeRun(store, runDir, files, summary, curves) : undefined;
  return { runDir, summary, curves, ...(stored ? { stored } : {}) };
}

/** Stores a written run; if that fails, the run directory stays and the error says how to store it later. */
async function storeRun(
  store: RunStore,
  runDir: string,
  files: RunFiles,
  summary: RunSummary,
  curves: EvaluationCurve[],
): Promise<{ id: string; location: string }> {
  const id = path.basename(runDir);
  const checkpoints: Record<string, string> = {};
  const artifacts: Record<string, string | Uint8Array> = {};
  for (const [name, content] of Object.entries(files)) {
    const checkpoint = /^checkpoints\/(.+)\.json$/.exec(name)?.[1];
    if (checkpoint !== undefined && typeof content === 'string') checkpoints[checkpoint] = content;
    else if (!/^metrics\/|^(config|summary)\.json$/.test(name)) artifacts[name] = content;
  }
  try {
    await store.saveRun({
      id,
      summary,
      spec: JSON.parse(files['config.json'] as string),
      curves,
      checkpoints,
      artifacts,
      versions: {},
      ...(summary.gitCommit ? { gitCommit: summary.gitCommit } : {}),
    });
  } catch (e) {
    throw new L2oError(
      `The run is in ${runDir} but could not be stored in ${store.location}: ${(e as Error).message.split('\n')[0]}`,
      `Store it later with: l2o runs import ${runDir}`,
    );
  }
  return { id, location: store.location };
}
