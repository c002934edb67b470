#!/usr/bin/env node
// Chooses a campaign's trained checkpoints as pretrained weights: writes their entries into
// pretrained.json (the checkpoint's repository path, its SHA-256, and how it was trained, from
// the campaign's plan and the checkpoint's own record). The checkpoints stay where the campaign
// committed them (campaigns/<name>/checkpoints); the build copies them into dist/checkpoints.
//
// Usage (from the repository root):
//   node packages/pretrained/scripts/from-campaign.mjs --state campaigns/cpu --figure fig1 --name lasso-20x40
// Every trained model of the figure, every seed: seed 0 as NAME, seed k as NAME-seedK; a variant
// of a model (a label other than its id) as NAME-<variant>, e.g. gru-mha-history (gru-mha over each
// coordinate's history) as NAME-history. The figure's models' entries of these names are replaced;
// all others are kept (figure 3 named like figure 1 keeps figure 1's gru, which figure 3 does not train).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { getScale } from '@l2o/core';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, '..');
const repoRoot = path.resolve(packageRoot, '../..');
export const INDEX = path.join(packageRoot, 'pretrained.json');

const value = (flag) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/**
 * A training's kept checkpoint: in the campaign's state folder, else in another campaign's beside
 * it (a training two campaigns share, the same key, is kept in one of them only).
 */
function keptCheckpoint(stateDir, key) {
  const campaigns = path.dirname(stateDir);
  const folders = [path.basename(stateDir), ...readdirSync(campaigns).filter((f) => f !== path.basename(stateDir))];
  const found = folders.map((f) => path.join(campaigns, f, 'checkpoints', `${key}.json`)).find((f) => existsSync(f));
  if (!found) throw new Error(`no kept checkpoint ${key}.json in ${path.join(stateDir, 'checkpoints')} or another campaign's beside it`);
  return found;
}

/**
 * Who made a training: its record in this campaign's plan, or, where that has none (a training
 * another campaign made first, found cached here), the record of the same key in another
 * campaign's plan beside it.
 */
function madeBy(stateDir, key, job, logged) {
  // Made by several sessions: each one's steps and commit (its training log's, else its record's); the last one's commit and engine as the training's.
  const made = logged?.length ? logged : job.sessions;
  const sessions = made?.length ? { sessions: made } : {};
  if (job.commit) return { commit: job.commit, engine: job.engine, ...sessions };
  const last = made?.at(-1);
  if (last?.commit) return { commit: last.commit, engine: last.engine, ...sessions };
  const campaigns = path.dirname(stateDir);
  for (const folder of readdirSync(campaigns)) {
    const planFile = path.join(campaigns, folder, 'plan.json');
    if (!existsSync(planFile)) continue;
    for (const e of JSON.parse(readFileSync(planFile, 'utf8')).entries ?? []) {
      const other = e.jobs?.[key];
      if (other?.done && other.commit) return { commit: other.commit, engine: other.engine, ...sessions };
    }
  }
  return { commit: undefined, engine: job.engine };
}

/** The name of a model's weights: `name`, or for a variant (label ≠ model id) `name-<variant>`, the label without the model's id. */
export function variantName(name, modelId, label) {
  if (!label || label === modelId) return name;
  return `${name}-${label.startsWith(`${modelId}-`) ? label.slice(modelId.length + 1) : label}`;
}

/** The models and names `entries` hold, with their seeds' (NAME-seedK): the entries a new choice of them replaces. */
export function replacedBy(entries) {
  const key = (e) => `${e.model} ${e.name.replace(/-seed\d+$/, '')}`;
  const keys = new Set(entries.map(key));
  return (e) => keys.has(key(e));
}

/**
 * The index after choosing `chosen`: they replace their models' entries of their names, except
 * that an entry of the same id and checkpoint stays as it was (figure 3 reuses figure 1's
 * trainings, and their entries keep saying figure 1 trained them).
 */
export function merged(entries, chosen) {
  const same = (e) => `${e.id} ${e.source}`;
  const chosenKeys = new Set(chosen.map(same));
  const replaced = replacedBy(chosen);
  const kept = entries.filter((e) => !replaced(e) || chosenKeys.has(same(e)));
  const keptKeys = new Set(kept.map(same));
  return [...kept, ...chosen.filter((e) => !keptKeys.has(same(e)))].sort((a, b) => a.id.localeCompare(b.id));
}

/** The entries for `figure`'s trainings in the campaign state at `stateDir`, named `name`. */
export function entriesFromCampaign(stateDir, figure, name) {
  const planFile = path.join(stateDir, 'plan.json');
  const plan = JSON.parse(readFileSync(planFile, 'utf8'));
  const entry = plan.entries.find((e) => e.figure === figure);
  if (!entry) throw new Error(`${planFile} has no figure '${figure}' (it has ${plan.entries.map((e) => e.figure).join(', ')})`);
  // The spec path is relative to the campaign file, experiments/campaigns/<campaign>.yaml.
  const specFile = path.resolve(repoRoot, 'experiments/campaigns', entry.spec);
  const spec = parse(readFileSync(specFile, 'utf8'));
  const trainDataset = spec.train?.dataset ?? 'synthetic';
  const atScale = spec.scales?.[entry.scale] ?? {};
  const datasetOptions = atScale.datasetOptions?.[trainDataset] ?? { preset: getScale(entry.scale).datasetPreset };
  const out = [];
  for (const [key, job] of Object.entries(entry.jobs)) {
    if (job.kind !== 'train' || !job.done) continue;
    const file = keptCheckpoint(stateDir, key);
    const log = file.replace(/\.json$/, '.training.json');
    const logged = existsSync(log) ? JSON.parse(readFileSync(log, 'utf8')).sessions : undefined;
    const bytes = readFileSync(file);
    const checkpoint = JSON.parse(bytes.toString('utf8'));
    const meta = checkpoint.meta ?? {};
    const base = variantName(name, checkpoint.modelId, job.label);
    const entryName = job.seed === 0 ? base : `${base}-seed${job.seed}`;
    out.push({
      id: `${checkpoint.modelId}-${entryName}`,
      model: checkpoint.modelId,
      name: entryName,
      description: `${job.label ?? checkpoint.modelId} trained by ${figure} at ${entry.scale} scale, seed ${job.seed}`,
      source: path.relative(repoRoot, file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      trainedWith: {
        problem: meta.problem?.id ?? spec.problem.id,
        problemOptions: meta.problem?.options ?? spec.problem.options ?? {},
        dataset: meta.trainDataset ?? trainDataset,
        datasetOptions,
        spec: path.relative(repoRoot, specFile),
        scale: entry.scale,
        seed: job.seed,
        ...madeBy(stateDir, key, job, logged),
        globalSteps: meta.training?.globalSteps,
        batchSize: meta.training?.batchSize,
        bestValidation: meta.bestValidation,
        bestStep: meta.bestStep,
        ...(meta.trainingSeconds !== undefined ? { trainingSeconds: Math.round(meta.trainingSeconds) } : {}),
      },
    });
  }
  if (out.length === 0) throw new Error(`figure '${figure}' in ${planFile} has no finished training`);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [state, figure, name] = ['--state', '--figure', '--name'].map(value);
  if (!state || !figure || !name || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    console.error(
      'Usage: node packages/pretrained/scripts/from-campaign.mjs --state campaigns/cpu --figure fig1 --name lasso-20x40 (a name of lower-case letters, digits and dashes)',
    );
    process.exit(2);
  }
  const index = JSON.parse(readFileSync(INDEX, 'utf8'));
  const chosen = entriesFromCampaign(path.resolve(state), figure, name);
  const before = index.entries.length;
  index.entries = merged(index.entries, chosen);
  writeFileSync(INDEX, `${JSON.stringify(index, null, 2)}\n`);
  console.log(`${chosen.length} entries named ${name}* from ${figure} (${path.relative(repoRoot, INDEX)} had ${before}, has ${index.entries.length})`);
}
