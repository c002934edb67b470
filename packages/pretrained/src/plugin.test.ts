import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootPlatform, isL2oError, loadCheckpointInto, readCheckpoint, type Platform } from '@l2o/core';
import { beforeAll, describe, expect, it } from 'vitest';
// The built package (its checkpoints are copied into dist/ by the build), as a user gets it.
import { shippedEntries } from '@l2o/pretrained';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const index = JSON.parse(readFileSync(path.join(repoRoot, 'packages/pretrained/pretrained.json'), 'utf8')) as {
  entries: { id: string; source: string; sha256: string; model: string; name: string }[];
};

let platform: Platform;
beforeAll(async () => {
  // The workspace's plugins, this package's built one among them (discovered like any installed plugin).
  platform = await bootPlatform({ backend: 'cpu', searchFrom: [repoRoot] });
});

describe('@l2o/pretrained', () => {
  it('ships every checkpoint pretrained.json chooses, byte for byte as the campaign committed it', () => {
    const shipped = shippedEntries();
    expect(shipped.map((e) => e.id)).toEqual(index.entries.map((e) => e.id));
    for (const entry of index.entries) {
      const registered = platform.registry.pretrained(entry.model, entry.name);
      const bytes = readFileSync(registered.checkpoint);
      expect(createHash('sha256').update(bytes).digest('hex'), entry.id).toBe(entry.sha256);
      expect(bytes.equals(readFileSync(path.join(repoRoot, entry.source)))).toBe(true);
    }
  });

  it('registers weights that load into their model built from the checkpoint config, with consistent provenance', () => {
    for (const p of platform.registry.list('pretrained')) {
      const checkpoint = readCheckpoint(p.checkpoint);
      expect(checkpoint.modelId).toBe(p.model);
      const model = platform.registry.get('model', p.model).create(checkpoint.config);
      try {
        loadCheckpointInto(model, checkpoint, { file: p.checkpoint });
        expect(model.parameterCount()).toBe(checkpoint.parameterCount);
      } finally {
        model.dispose();
      }
      const meta = checkpoint.meta as { bestValidation: number; bestStep: number; training: { globalSteps: number; batchSize: number } };
      expect(p.trainedWith.bestValidation).toBe(meta.bestValidation);
      expect(p.trainedWith.bestStep).toBe(meta.bestStep);
      expect([p.trainedWith.globalSteps, p.trainedWith.batchSize]).toEqual([meta.training.globalSteps, meta.training.batchSize]);
      expect(p.trainedWith.commit).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it('names what exists when a name is unknown', () => {
    const error = (() => {
      try {
        platform.registry.pretrained('gru-mha', 'lasso-20x41');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(isL2oError(error)).toBe(true);
    expect((error as Error).message).toBe("No pretrained 'lasso-20x41' for model 'gru-mha'. Did you mean 'lasso-20x40'?");
  });
});
