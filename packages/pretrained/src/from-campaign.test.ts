import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/from-campaign.mjs chooses a campaign's trainings as pretrained weights; a training two
// campaigns share (the same key) is kept in one state folder only, and found there.
interface Entry {
  id: string;
  model: string;
  name: string;
  source: string;
  description?: string;
  sha256: string;
  trainedWith: { seed: number; scale: string; spec: string; commit?: string; engine?: string; sessions?: unknown[] };
}
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const load = () =>
  import(path.join(here, '..', 'scripts', 'from-campaign.mjs')) as Promise<{
    entriesFromCampaign: (state: string, figure: string, name: string) => Entry[];
    replacedBy: (entries: Entry[]) => (entry: { model: string; name: string }) => boolean;
    merged: (entries: Partial<Entry>[], chosen: Partial<Entry>[]) => Partial<Entry>[];
  }>;
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-from-campaign-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('from-campaign', () => {
  it("finds a finished training's checkpoint in its campaign's state folder, else in another campaign's beside it", async () => {
    const { entriesFromCampaign } = await load();
    // A committed cpu-scale checkpoint of figure 1 (lstm, seed 0), kept by campaign b, planned by campaign a.
    const key = 'lstm-8f9ac56fc3a8f274';
    const checkpoint = path.join(repoRoot, 'campaigns', 'cpu', 'checkpoints', `${key}.json`);
    const campaigns = path.join(temp, 'campaigns');
    mkdirSync(path.join(campaigns, 'a'), { recursive: true });
    mkdirSync(path.join(campaigns, 'b', 'checkpoints'), { recursive: true });
    cpSync(checkpoint, path.join(campaigns, 'b', 'checkpoints', `${key}.json`));
    const job = { kind: 'train', label: 'lstm', seed: 0, done: true, commit: '3b15accb0f7d70710732400d3568acb7dcda7f36', engine: 'wasm+l2o-kernels' };
    const plan = { format: 1, entries: [{ spec: '../paper/fig1.yaml', scale: 'cpu', figure: 'fig1', jobs: { [key]: job } }] };
    writeFileSync(path.join(campaigns, 'a', 'plan.json'), JSON.stringify(plan));
    const [entry, ...rest] = entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test');
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      id: 'lstm-lasso-test',
      model: 'lstm',
      name: 'lasso-test',
      trainedWith: { seed: 0, scale: 'cpu', spec: 'experiments/paper/fig1.yaml' },
    });
    expect(path.resolve(repoRoot, entry!.source)).toBe(path.join(campaigns, 'b', 'checkpoints', `${key}.json`));
    expect(entry!.sha256).toBe(createHash('sha256').update(readFileSync(checkpoint)).digest('hex'));
    // Found cached by campaign a (no commit in its plan): who made it comes from campaign b's plan.
    const made = { ...job, commit: 'b0b', engine: 'wasm' };
    writeFileSync(path.join(campaigns, 'b', 'plan.json'), JSON.stringify({ format: 1, entries: [{ figure: 'pilot', jobs: { [key]: made } }] }));
    const cached = { kind: 'train', label: 'lstm', seed: 0, done: true };
    writeFileSync(path.join(campaigns, 'a', 'plan.json'), JSON.stringify({ ...plan, entries: [{ ...plan.entries[0], jobs: { [key]: cached } }] }));
    expect(entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test')[0]!.trainedWith).toMatchObject({ commit: 'b0b', engine: 'wasm' });
    // Made by several sessions (a training resumed by another checkout): each one's steps and
    // commit are kept, and the last one's commit is the training's.
    const sessions = [
      { fromStep: 0, toStep: 100, seconds: 2049.1 },
      { fromStep: 100, toStep: 400, seconds: 6000, commit: 'c0c', engine: 'wasm+l2o-kernels' },
    ];
    writeFileSync(
      path.join(campaigns, 'a', 'plan.json'),
      JSON.stringify({ ...plan, entries: [{ ...plan.entries[0], jobs: { [key]: { ...cached, sessions } } }] }),
    );
    expect(entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test')[0]!.trainedWith).toMatchObject({
      commit: 'c0c',
      engine: 'wasm+l2o-kernels',
      sessions,
    });
    // Its training log beside the checkpoint says the same when the plan has lost them (the log is the truth).
    writeFileSync(path.join(campaigns, 'b', 'checkpoints', `${key}.training.json`), JSON.stringify({ seconds: 8049.1, sessions }));
    writeFileSync(path.join(campaigns, 'a', 'plan.json'), JSON.stringify({ ...plan, entries: [{ ...plan.entries[0], jobs: { [key]: cached } }] }));
    expect(entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test')[0]!.trainedWith).toMatchObject({ commit: 'c0c', sessions });
    // Kept nowhere: an error naming the checkpoint.
    rmSync(path.join(campaigns, 'b'), { recursive: true });
    expect(() => entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test')).toThrow(`no kept checkpoint ${key}.json`);
  });

  it('names a variant of a model (a label other than its id) after its label, so that it does not take the model’s name', async () => {
    const { entriesFromCampaign, replacedBy } = await load();
    const campaigns = path.join(temp, 'variants');
    mkdirSync(path.join(campaigns, 'a', 'checkpoints'), { recursive: true });
    // Committed cpu-scale checkpoints of gru-mha (the plan's labels decide the names, not their configs).
    const keys = ['gru-mha-18982952e4e15e0a', 'gru-mha-26fe1cece85052c1'];
    for (const key of keys)
      cpSync(path.join(repoRoot, 'campaigns', 'cpu', 'checkpoints', `${key}.json`), path.join(campaigns, 'a', 'checkpoints', `${key}.json`));
    const job = (label: string, seed: number) => ({ kind: 'train', label, seed, done: true, commit: 'abc', engine: 'wasm' });
    const plan = {
      format: 1,
      entries: [{ spec: '../paper/fig1.yaml', scale: 'cpu', figure: 'fig1', jobs: { [keys[0]!]: job('gru-mha', 0), [keys[1]!]: job('gru-mha-history', 1) } }],
    };
    writeFileSync(path.join(campaigns, 'a', 'plan.json'), JSON.stringify(plan));
    const entries = entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test');
    expect(entries.map((e) => [e.id, e.model, e.name])).toEqual([
      ['gru-mha-lasso-test', 'gru-mha', 'lasso-test'],
      ['gru-mha-lasso-test-history-seed1', 'gru-mha', 'lasso-test-history-seed1'],
    ]);
    // A new choice replaces these names and their seeds of these models, not a name that merely
    // starts the same, nor another model's entry of the same name (a figure that does not train it).
    const replaced = replacedBy(entries);
    const names = ['lasso-test', 'lasso-test-seed2', 'lasso-test-history', 'lasso-test-cpu', 'lasso-test-cpu-seed1', 'lasso'];
    expect(names.filter((name) => replaced({ model: 'gru-mha', name }))).toEqual(['lasso-test', 'lasso-test-seed2', 'lasso-test-history']);
    expect(names.filter((name) => replaced({ model: 'gru', name }))).toEqual([]);
  });

  it("keeps an entry a figure chooses again with the same checkpoint, and replaces only the figure's models' entries of its name", async () => {
    const { merged } = await load();
    const entry = (model: string, name: string, source: string, description = '') => ({ id: `${model}-${name}`, model, name, source, description });
    // Published by figure 1: gru seed 0, lstm seeds 0–2 and another name of lstm's; lstm seed 1 since retrained.
    const index = [
      entry('gru', 'lasso-big', 'c/gru0.json', 'fig1'),
      entry('lstm', 'lasso-big', 'c/lstm0.json', 'fig1'),
      entry('lstm', 'lasso-big-seed1', 'c/lstm1-old.json', 'fig1'),
      entry('lstm', 'lasso-big-seed2', 'c/lstm2.json', 'fig1'),
      entry('lstm', 'lasso-small', 'c/lstm-small.json', 'fig1'),
    ];
    // Figure 3 under the same name: lstm's seeds 0 and 1 (seed 0 the same training), and rnnprop.
    const chosen = [
      entry('lstm', 'lasso-big', 'c/lstm0.json', 'fig3'),
      entry('lstm', 'lasso-big-seed1', 'c/lstm1.json', 'fig3'),
      entry('rnnprop', 'lasso-big', 'c/rnnprop0.json', 'fig3'),
    ];
    expect(merged(index, chosen).map((e) => [e.id, e.source, e.description])).toEqual([
      ['gru-lasso-big', 'c/gru0.json', 'fig1'],
      ['lstm-lasso-big', 'c/lstm0.json', 'fig1'],
      ['lstm-lasso-big-seed1', 'c/lstm1.json', 'fig3'],
      ['lstm-lasso-small', 'c/lstm-small.json', 'fig1'],
      ['rnnprop-lasso-big', 'c/rnnprop0.json', 'fig3'],
    ]);
  });
});
