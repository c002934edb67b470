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
  sha256: string;
  trainedWith: { seed: number; scale: string; spec: string };
}
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const load = () =>
  import(path.join(here, '..', 'scripts', 'from-campaign.mjs')) as Promise<{ entriesFromCampaign: (state: string, figure: string, name: string) => Entry[] }>;
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
    // Kept nowhere: an error naming the checkpoint.
    rmSync(path.join(campaigns, 'b'), { recursive: true });
    expect(() => entriesFromCampaign(path.join(campaigns, 'a'), 'fig1', 'lasso-test')).toThrow(`no kept checkpoint ${key}.json`);
  });
});
