import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine.js';
import { L2oError } from '../errors.js';
import { TinyLearned } from '../test-utils/tiny.js';
import {
  checkpointOf,
  checkpointProblemWarning,
  loadCheckpointInto,
  readCachedCheckpoint,
  readCheckpoint,
  saveCheckpoint,
  weightsChecksum,
  type Checkpoint,
} from './checkpoint.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-checkpoint-'));
beforeAll(async () => {
  await selectEngine('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let files = 0;
function saved(checkpoint: Checkpoint): string {
  const file = path.join(temp, `checkpoint-${files++}.json`);
  saveCheckpoint(file, checkpoint);
  return file;
}

/** Rewrites a saved checkpoint's JSON, as a user with an editor would. */
function edit(file: string, change: (json: Record<string, any>) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  change(json);
  writeFileSync(file, JSON.stringify(json));
}

function oneLineOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(L2oError);
    return (e as L2oError).oneLine();
  }
  throw new Error('expected an L2oError');
}

const corruptLine = (file: string, which = 'its weights') =>
  `Checkpoint ${file} is corrupt: ${which} do not match their checksum (edited or truncated?). Retrain, or restore the file.`;

describe('checkpoint checksums', () => {
  it('stores the SHA-256 of the weights and verifies it on load (round trip)', () => {
    const model = new TinyLearned({ seed: 3 });
    const checkpoint = checkpointOf(model);
    expect(checkpoint.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(checkpoint.weightsSha256).toBe(weightsChecksum(model.getWeights()));
    // Canonical: the order of the names does not matter, any value does.
    const reversed = Object.fromEntries(Object.entries(checkpoint.weights).reverse());
    expect(weightsChecksum(reversed)).toBe(checkpoint.weightsSha256);
    expect(weightsChecksum(new TinyLearned({ seed: 4 }).getWeights())).not.toBe(checkpoint.weightsSha256);

    const read = readCheckpoint(saved(checkpoint));
    expect(read).toEqual(checkpoint);
    const other = new TinyLearned({ seed: 3 });
    loadCheckpointInto(other, read);
    expect(other.getWeights()).toEqual(model.getWeights());
    model.dispose();
    other.dispose();
  });

  it('refuses a checkpoint with a weight value changed, with one line naming the file', () => {
    const model = new TinyLearned({ seed: 1 });
    const file = saved(checkpointOf(model));
    edit(file, (j) => {
      j.weights.w1.data[0] += 0.25;
    });
    expect(oneLineOf(() => readCheckpoint(file))).toBe(corruptLine(file));
    // A dropped value (truncated array) is refused too, before any checksum.
    edit(file, (j) => {
      j.weights.w1.data.pop();
    });
    expect(oneLineOf(() => readCheckpoint(file))).toMatch(new RegExp(`^Checkpoint ${file} is corrupt: weight 'w1' has \\d+ values`));
    model.dispose();
  });

  it('verifies the best weights of a resumable checkpoint', () => {
    const model = new TinyLearned({ seed: 2 });
    const training = {
      nextStep: 3,
      learningRate: 0.01,
      metaOptimizer: [],
      rng: { s: [1, 2, 3, 4], spare: null },
      best: { step: 2, loss: 0.5, weights: new TinyLearned({ seed: 5 }).getWeights() },
      history: [],
      validation: [],
      seconds: 1,
      options: {},
    } as unknown as NonNullable<Checkpoint['training']>;
    const checkpoint = checkpointOf(model, { training });
    expect(checkpoint.training!.best!.weightsSha256).toBe(weightsChecksum(training.best!.weights));
    expect(training.best).not.toHaveProperty('weightsSha256'); // the caller's state is not mutated
    const file = saved(checkpoint);
    expect(readCheckpoint(file).training!.best!.weights).toEqual(training.best!.weights);
    edit(file, (j) => {
      j.training.best.weights.b2.data[1] = 7;
    });
    expect(oneLineOf(() => readCheckpoint(file))).toBe(corruptLine(file, 'its best weights'));
    model.dispose();
  });

  it('still loads an older checkpoint without the checksum field', () => {
    const model = new TinyLearned({ seed: 1 });
    const file = saved(checkpointOf(model));
    edit(file, (j) => {
      delete j.weightsSha256;
      j.weights.b1.data[0] = 0.5;
    });
    const read = readCheckpoint(file);
    expect(read.weightsSha256).toBeUndefined();
    expect(read.weights.b1!.data[0]).toBe(0.5);
    model.dispose();
  });
});

describe('checkpointProblemWarning', () => {
  const model = new TinyLearned({ seed: 1 });
  const withProblem = (problem: unknown): Checkpoint => checkpointOf(model, { meta: { problem } });
  afterAll(() => model.dispose());

  it('warns when the checkpoint was trained on another problem id', () => {
    const warning = checkpointProblemWarning(withProblem({ id: 'logistic-l1', options: {} }), { id: 'lasso', options: {} });
    expect(warning).toMatch(/trained on problem 'logistic-l1', not 'lasso'/);
  });

  it('warns when a recorded option differs, not for options left at their default', () => {
    expect(checkpointProblemWarning(withProblem({ id: 'lasso', options: { lambda: 0.1 } }), { id: 'lasso', options: { lambda: 0.2 } })).toMatch(
      /other options: lambda \(trained 0\.1, now 0\.2\)/,
    );
    // `l2o train` records a PluginRef without options; runComparison records { id, options }.
    expect(checkpointProblemWarning(withProblem({ id: 'lasso' }), { id: 'lasso', options: { lambda: 0.1 } })).toBeNull();
    expect(checkpointProblemWarning(withProblem({ id: 'lasso', options: { lambda: 0.1 } }), { id: 'lasso', options: { lambda: 0.1 } })).toBeNull();
  });

  it('says nothing without a recorded problem', () => {
    expect(checkpointProblemWarning(checkpointOf(model), { id: 'lasso', options: {} })).toBeNull();
    expect(checkpointProblemWarning(withProblem('lasso'), { id: 'lasso', options: {} })).toBeNull();
  });
});

describe('readCachedCheckpoint', () => {
  it('treats a truncated cached checkpoint as a miss: null, a warning, the file removed', () => {
    const model = new TinyLearned({ seed: 1 });
    const file = saved(checkpointOf(model));
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
    const warnings: string[] = [];
    expect(readCachedCheckpoint(file, (l) => warnings.push(l))).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^cached checkpoint ${file} is unreadable \\(.*not valid JSON.*\\); training again$`));
    expect(existsSync(file)).toBe(false);
    model.dispose();
  });

  it('treats a checksum mismatch as a miss; a missing file is a miss without a warning; a good one loads', () => {
    const model = new TinyLearned({ seed: 1 });
    const good = saved(checkpointOf(model));
    const bad = saved(checkpointOf(model));
    edit(bad, (j) => {
      j.weights.w2.data[3] = 1;
    });
    const warnings: string[] = [];
    expect(readCachedCheckpoint(bad, (l) => warnings.push(l))).toBeNull();
    expect(warnings[0]).toMatch(
      /is unreadable \(Checkpoint .* is corrupt: its weights do not match their checksum \(edited or truncated\?\)\); training again$/,
    );
    expect(existsSync(bad)).toBe(false);
    expect(readCachedCheckpoint(bad, (l) => warnings.push(l))).toBeNull();
    expect(readCachedCheckpoint(good, (l) => warnings.push(l))).toEqual(readCheckpoint(good));
    expect(warnings).toHaveLength(1);
    model.dispose();
  });
});
