import { describe, expect, it } from 'vitest';
import type { CampaignJobRecord, CampaignPlanFile } from '@l2o/sweep';
import { campaignSummary } from './campaign-flags.js';

/** A plan of one figure whose jobs are `jobs`, shared by a second figure (as fig1's trainings are by fig2's). */
function planOf(jobs: Record<string, CampaignJobRecord>): CampaignPlanFile {
  const entry = (figure: string) => ({
    spec: `../paper/${figure}.yaml`,
    scale: 'paper',
    seeds: [0],
    grid: [],
    figure,
    sweep: figure,
    status: 'remaining' as const,
    runs: { done: 0, total: 1 },
    trainings: { done: 0, total: 1 },
    evaluations: { done: 0, total: 1 },
    jobs,
  });
  return { format: 1, campaign: 'paper', updatedAt: '2026-12-06T15:00:00.000Z', entries: [entry('fig1'), entry('fig2')] };
}

describe('campaignSummary: trainings under way', () => {
  it('lists each resumable training once, with its pace over all sessions and the time left at it', () => {
    const plan = planOf({ t: { kind: 'train', label: 'lstm', seed: 1, done: false, resumesAt: 100, totalSteps: 500, secondsSoFar: 1500 } });
    const lines = campaignSummary(plan).split('\n');
    expect(lines.slice(-2)).toEqual([
      'trainings under way:',
      '  lstm seed 1 (fig1): at step 100 of 500; 25 min 00 s so far, 15 s a step: about 1 h 40 min more at that pace',
    ]);
  });

  it("adds the last session's pace to a training of several sessions", () => {
    const sessions = [
      { fromStep: 0, toStep: 260, seconds: 23660, commit: 'aaaa' },
      { fromStep: 260, toStep: 428, seconds: 9072, commit: 'bbbb' },
    ];
    const plan = planOf({ t: { kind: 'train', label: 'gru-mha', seed: 0, done: false, resumesAt: 428, totalSteps: 500, secondsSoFar: 32732, sessions } });
    // 32,732 s over 428 steps is 76 s a step; the last session ran 168 steps in 9,072 s, 54 s a step.
    expect(campaignSummary(plan).split('\n').at(-1)).toBe(
      '  gru-mha seed 0 (fig1): at step 428 of 500; 9 h 06 min so far, 76 s a step (54 s in its last session): about 1 h 32 min more at that pace',
    );
  });
});

describe('campaignSummary: evaluations under way', () => {
  it('lists each unfinished evaluation whose batches the cache keeps, once, with how far it got', () => {
    const plan = planOf({
      e: { kind: 'evaluate', label: 'gru-mha', seed: 1, done: false },
      f: { kind: 'evaluate', label: 'lstm', seed: 1, done: false },
    });
    const lines = campaignSummary(plan, new Map([['e', { done: 512, instances: 1024, seconds: 1530 }]])).split('\n');
    expect(lines.slice(-2)).toEqual([
      'evaluations under way (their finished batches are in the cache: continued on this machine):',
      '  gru-mha seed 1 (fig1): 512 of 1024 test instances done, 25 min 30 s so far',
    ]);
    expect(campaignSummary(plan)).not.toMatch(/evaluations under way/);
  });
});
