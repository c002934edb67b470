import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPERIMENT_SCHEMA, loadExperimentSpec } from './spec.js';
import { TRAINING_FIELDS } from '../train/training-options.js';
import { TEST_FIELDS } from './scales.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-spec-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A spec file whose smoke scale sets these training settings. */
function specWith(training: string): string {
  const file = path.join(temp, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      'name: t',
      'problem: { id: lasso }',
      'test: { dataset: synthetic }',
      'optimizers:',
      '  - { id: fista }',
      'scales:',
      '  smoke:',
      `    training: ${training}`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('experiment spec schema', () => {
  it('takes its training and test settings from their option fields', () => {
    const scale = EXPERIMENT_SCHEMA.properties.scales.properties.smoke!.properties;
    const trainingKeys = Object.keys(TRAINING_FIELDS).filter((k) => k !== 'seed');
    expect(Object.keys(scale.training.properties as object).sort()).toEqual(trainingKeys.sort());
    expect(Object.keys(scale.test.properties as object).sort()).toEqual(Object.keys(TEST_FIELDS).sort());
  });

  it('accepts settings within their fields’ limits', () => {
    const spec = loadExperimentSpec(specWith('{ globalSteps: 2, learningRate: 0.003, onNonFinite: skip, microBatch: 0, workers: 2 }'));
    expect(spec.scales?.smoke?.training).toEqual({ globalSteps: 2, learningRate: 0.003, onNonFinite: 'skip', microBatch: 0, workers: 2 });
  });

  it.each([
    ['{ globalSteps: 0 }', /:8: scales\.smoke\.training\.globalSteps: expected a value that must be >= 1/],
    ['{ learningRate: 0 }', /scales\.smoke\.training\.learningRate: expected a value that must be > 0/],
    ['{ microBatch: -1 }', /scales\.smoke\.training\.microBatch: expected a value that must be >= 0/],
    ['{ onNonFinite: maybe }', /scales\.smoke\.training\.onNonFinite: expected one of "stop", "skip"/],
    ['{ globalStep: 5 }', /scales\.smoke\.training\.globalStep: unknown key 'globalStep'/],
    ['{ seed: 3 }', /scales\.smoke\.training\.seed: unknown key 'seed'/],
    ['{ batchSize: 2.5 }', /scales\.smoke\.training\.batchSize: expected integer/],
  ])('refuses training %s, naming file, line and setting', (training, message) => {
    expect(() => loadExperimentSpec(specWith(training))).toThrow(message);
  });
});
