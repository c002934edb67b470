import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statedDeviations, stoppedTrainings } from './gather.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-gather-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('stoppedTrainings', () => {
  it("reads a campaign's failed trainings of one figure and scale from the plan beside its kept runs", () => {
    const state = path.join(temp, 'campaigns', 'cpu');
    mkdirSync(path.join(state, 'runs'), { recursive: true });
    const message = "Meta-training of 'gru' diverged at global step 34: segment 3 gave loss 1.28e+24. Lower the learning rate.";
    writeFileSync(
      path.join(state, 'plan.json'),
      JSON.stringify({
        format: 1,
        entries: [
          {
            figure: 'stability-clip',
            scale: 'cpu',
            jobs: {
              'gru-a': { kind: 'train', label: 'gru', seed: 1, done: false, failed: message },
              'gru-b': { kind: 'train', label: 'gru', seed: 0, done: true },
              'gru-mha-c': { kind: 'train', label: 'gru-mha', seed: 4, done: false, resumesAt: 175 },
              'run-1': { kind: 'run', seed: 1, done: false, failed: 'not a training' },
            },
          },
          { figure: 'stability-clip', scale: 'paper', jobs: { 'gru-d': { kind: 'train', label: 'gru', seed: 2, failed: message } } },
          { figure: 'fig1', scale: 'cpu', jobs: { 'gru-e': { kind: 'train', label: 'gru', seed: 3, failed: message } } },
        ],
      }),
    );
    expect(stoppedTrainings(path.join(state, 'runs'), 'stability-clip', 'cpu')).toEqual([{ label: 'gru', seed: 1, message }]);
    expect(stoppedTrainings(path.join(state, 'runs'), 'stability-noclip', 'cpu')).toEqual([]);
    // Kept runs that are not a campaign's: nothing to read.
    expect(stoppedTrainings(path.join(temp, 'elsewhere'), 'stability-clip', 'cpu')).toEqual([]);
  });
});

describe('statedDeviations', () => {
  it("reads the deviations a figure's spec states for one scale, with the spec's path in the checkout", () => {
    const root = path.join(temp, 'checkout');
    mkdirSync(path.join(root, 'experiments', 'paper'), { recursive: true });
    writeFileSync(
      path.join(root, 'experiments', 'paper', 'figx.yaml'),
      [
        'name: figx',
        'problem: { id: lasso }',
        'test: { dataset: synthetic }',
        'optimizers: [{ id: lstm }]',
        'scales:',
        '  paper:',
        '    training: { onNonFinite: skip }',
        '    deviations: ["A non-finite step is skipped and the rate halved (the papers stop)."]',
      ].join('\n'),
    );
    expect(statedDeviations('figx', 'paper', root)).toEqual({
      deviations: { spec: 'experiments/paper/figx.yaml', items: ['A non-finite step is skipped and the rate halved (the papers stop).'] },
    });
    // None stated at the scale, or no spec in the checkout: nothing.
    expect(statedDeviations('figx', 'cpu', root)).toEqual({});
    expect(statedDeviations('figy', 'paper', root)).toEqual({});
  });
});
