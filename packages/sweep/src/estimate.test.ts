import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bootPlatform, CALIBRATION_FILE, partialEvaluationFile, partialEvaluationPath, type CalibrationEntry } from '@l2o/core';
import { planSweep } from './plan.js';
import { estimateSweep, scheduleEnds, scheduleSeconds, trainingSeconds, type EstimatedJob } from './estimate.js';
import { estimateCampaign, loadCampaign, planCampaign } from './campaign.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-estimate-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cacheDir = path.join(temp, 'cache');
const platform = await bootPlatform({ backend: 'wasm', searchFrom: [repo], cacheDir, runsDir: path.join(temp, 'runs') });
const spec = path.join(temp, 'spec.yaml');
writeFileSync(
  spec,
  `name: estimatetest
problem: { id: lasso }
test: { dataset: synthetic }
optimizers:
  - { id: lstm }
  - { id: fista }
`,
);

describe('the wall time of a schedule', () => {
  it('runs the longest ready job on the first free worker; done jobs take no worker', () => {
    const job = (key: string, seconds: number, after: string[] = []): EstimatedJob => ({
      kind: 'evaluate',
      key,
      seed: 0,
      seconds,
      cached: seconds === 0,
      after,
    });
    // Worker 1: a 0–5, d 5–7 (after b and the done e). Worker 2: b 0–4, c 4–7 (longer than d), f 7–8 (after c).
    const jobs = [job('a', 5), job('b', 4), job('c', 3), job('e', 0), job('d', 2, ['b', 'e']), job('f', 1, ['c'])];
    expect(scheduleSeconds(jobs, 2)).toBe(8);
    expect(scheduleSeconds(jobs, 1)).toBe(15);
    // Enough workers: the longest chain, b then d (a ends at 5, c then f at 4).
    expect(scheduleSeconds(jobs, 8)).toBe(6);
  });

  it("gives a free worker a ready job of the lowest group first, then the longest: a later entry's jobs fill an idle worker", () => {
    const job = (key: string, seconds: number, group: number, after: string[] = []): EstimatedJob => ({
      kind: 'train',
      key,
      seed: 0,
      seconds,
      cached: false,
      after,
      group,
    });
    // Entry 0: a long training t (10) and a short one s (2) whose evaluation e (1) waits for it; entry 1: x (5), y (4).
    const jobs = [job('t', 10, 0), job('s', 2, 0), job('e', 1, 0, ['s']), job('x', 5, 1), job('y', 4, 1)];
    // Worker 1: t 0–10. Worker 2: s 0–2, e 2–3 (entry 0's before x, which is longer), x 3–8, y 8–12.
    expect(Object.fromEntries(scheduleEnds(jobs, 2))).toEqual({ t: 10, s: 2, e: 3, x: 8, y: 12 });
    // One group: longest first, as before (x before s, and e after y).
    const one = jobs.map((j) => ({ ...j, group: 0 }));
    expect(Object.fromEntries(scheduleEnds(one, 2))).toEqual({ t: 10, x: 5, y: 9, s: 11, e: 12 });
  });

  it('counts a training as its steps (a batch made, then its segments) and validations (each batch made, then its iterations)', () => {
    const training = {
      globalSteps: 10,
      batchSize: 8,
      iterations: 20,
      unroll: 10,
      validateEvery: 4,
      validationSize: 16,
      validationIterations: 20,
      microBatch: 4,
    };
    // 10 steps, each 2 micro-batches made once (10 + 4 × 0.1 ms) and run 20 iterations (1 + 4 × 0.5
    // ms), and 3 validations, each 4 batches made once (4 + 4 × 1 ms) and run 20 iterations
    // (2 + 4 × 0.25 ms).
    const segment = { fixedMs: 1, perInstanceMs: 0.5, once: { fixedMs: 10, perInstanceMs: 0.1 } };
    const validation = { fixedMs: 2, perInstanceMs: 0.25, once: { fixedMs: 4, perInstanceMs: 1 } };
    const step = 2 * (10 + 4 * 0.1) + 20 * 2 * 3;
    const validate = 4 * (4 + 4 * 1) + 20 * 4 * 3;
    expect(trainingSeconds(training as never, segment, validation)).toBeCloseTo((10 * step + 3 * validate) / 1000, 9);
    // Resumed at step 8: steps 9–10 and one validation (after the last step) are left.
    expect(trainingSeconds(training as never, segment, validation, 8)).toBeCloseTo((2 * step + 1 * validate) / 1000, 9);
  });
});

describe('estimating a sweep', () => {
  const plan = planSweep(platform, { spec, scale: 'smoke', seeds: [0, 1], grid: [] });
  const file = path.join(cacheDir, CALIBRATION_FILE);

  it('calibrates once, keeps the timings per engine and machine, and reuses them', async () => {
    const said: string[] = [];
    const first = await estimateSweep(platform, plan, { workers: 2, onCalibrate: (w) => said.push(w) });
    // lstm's segment, validation and iteration, fista's iteration, the reference (timed for seed 0,
    // reused for seed 1) and the start of a job process.
    expect(first.calibration).toMatchObject({ calibrated: 6, reused: 0 });
    expect(said).toHaveLength(2);
    expect(first.calibration.jobStartSeconds).toBeGreaterThan(0);
    expect(first.seconds).toBeGreaterThan(0);
    const entries = Object.values((JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, CalibrationEntry> }).entries);
    expect(entries.map((e) => e.kind).sort()).toEqual(['iteration', 'iteration', 'job', 'reference', 'segment', 'validation']);
    expect(entries.every((e) => e.engine === first.calibration.engine && e.machine === first.calibration.machine)).toBe(true);
    expect(entries.filter((e) => e.kind !== 'job').every((e) => e.size === '20×40')).toBe(true);

    const again = await estimateSweep(platform, plan, { workers: 2, onCalibrate: (w) => said.push(w) });
    expect(again.calibration).toMatchObject({ calibrated: 0, reused: 6 });
    expect(said).toHaveLength(2);
  });

  it('adds up the jobs from fixed timings as a hand computation does, done trainings at 0', async () => {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, CalibrationEntry> };
    const fixed = { segment: [1, 0.5], validation: [2, 0.25], iteration: [3, 0.5], reference: [100, 10], job: [500, 0] } as const;
    // What a batch costs once: a training step's batch drawn and made, a validation or test batch made.
    const once = { segment: [6, 0.5], validation: [5, 1], iteration: [7, 2] } as const;
    for (const e of Object.values(stored.entries)) {
      [e.fixedMs, e.perInstanceMs] = fixed[e.kind];
      if (e.kind === 'segment' || e.kind === 'validation' || e.kind === 'iteration') {
        expect(e.once).toBeDefined();
        e.once = { fixedMs: once[e.kind][0], perInstanceMs: once[e.kind][1] };
      } else expect(e.once).toBeUndefined();
    }
    writeFileSync(file, JSON.stringify(stored));
    // smoke: 4 global steps, each a batch of 8 made and run K = 20 iterations (segments of 10),
    // validation every 2 steps of 16 instances × 100 iterations (in batches of 8, each made once);
    // test 16 instances, one batch made and run 30 iterations. Each training and evaluation also
    // starts a job process (0.5 s).
    const train = 0.5 + (4 * (6 + 8 * 0.5 + 20 * (1 + 8 * 0.5)) + 2 * (2 * 5 + 16 * 1 + 100 * (2 * 2 + 16 * 0.25))) / 1000; // 2.59 s
    const evaluate = 0.5 + (7 + 16 * 2 + 30 * (3 + 16 * 0.5)) / 1000; // 0.87 s
    const reference = (100 + 16 * 10) / 1000; // 0.26 s
    const estimate = await estimateSweep(platform, plan, { workers: 2 });
    const seconds = (kind: string, seed: number, label?: string) =>
      estimate.perJob.find((j) => j.kind === kind && j.seed === seed && (label === undefined || j.label === label))!.seconds;
    expect(seconds('train', 0)).toBeCloseTo(train, 9);
    expect(seconds('evaluate', 1, 'fista')).toBeCloseTo(evaluate, 9);
    expect(seconds('reference', 1)).toBeCloseTo(reference, 9);
    // Both trainings 0–2.59, both references 2.59–2.85, then four evaluations two at a time.
    expect(estimate.seconds).toBeCloseTo(train + reference + 2 * evaluate, 9);

    // Seed 1's checkpoint cached: its training costs 0. Worker 1 trains seed 0 (0–2.59), then evaluates
    // lstm seed 0; worker 2 solves both references, then evaluates fista 0, lstm 1 and fista 1 (to 3.13).
    const seed1 = plan.jobs.find((j) => j.kind === 'train' && j.comparison.seed === 1)!;
    mkdirSync(path.join(cacheDir, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(cacheDir, 'checkpoints', `${seed1.key}.json`), '{}');
    const cached = await estimateSweep(platform, plan, { workers: 2 });
    expect(cached.perJob.find((j) => j.key === seed1.key)).toMatchObject({ seconds: 0, cached: true });
    expect(cached.seconds).toBeCloseTo(train + evaluate, 9);
    expect(await estimateSweep(platform, plan, { workers: 1 }).then((e) => e.seconds)).toBeCloseTo(train + 2 * reference + 4 * evaluate, 9);

    // Seed 0's training resumable at step 2 of 4: two steps and the last validation are left.
    const seed0 = plan.jobs.find((j) => j.kind === 'train' && j.comparison.seed === 0)!;
    writeFileSync(path.join(cacheDir, 'checkpoints', `${seed0.key}.json.resume`), JSON.stringify({ training: { nextStep: 2 } }));
    const resumed = await estimateSweep(platform, plan, { workers: 2 });
    expect(resumed.perJob.find((j) => j.key === seed0.key)!.seconds).toBeCloseTo(
      0.5 + (2 * (6 + 8 * 0.5 + 20 * (1 + 8 * 0.5)) + (2 * 5 + 16 * 1 + 100 * (2 * 2 + 16 * 0.25))) / 1000,
      9,
    );

    // fista seed 1's evaluation interrupted with 12 of its 16 instances done (their batches kept): a quarter is left.
    const fista1 = plan.jobs.find((j) => j.kind === 'evaluate' && j.label === 'fista' && j.comparison.seed === 1)!;
    partialEvaluationFile(partialEvaluationPath(cacheDir, fista1.key), {}).save({
      done: 12,
      instances: 16,
      F: new Float64Array(12 * 31),
      accepted: null,
      seconds: 1,
    });
    const continued = await estimateSweep(platform, plan, { workers: 2 });
    expect(continued.perJob.find((j) => j.key === fista1.key)!.seconds).toBeCloseTo(0.5 + (evaluate - 0.5) / 4, 9);

    // Times measured before (a campaign's state says what each job took) win over the calibration;
    // the kept quarter of an evaluation still comes off.
    const expectedSeconds = (job: { key: string }) => ({ [seed0.key]: 100, [fista1.key]: 40 })[job.key];
    const measured = await estimateSweep(platform, plan, { workers: 2, expectedSeconds });
    const of = (key: string) => measured.perJob.find((j) => j.key === key)!;
    expect(of(seed0.key).seconds).toBeCloseTo(0.5 + 100, 9);
    expect(of(fista1.key).seconds).toBeCloseTo(0.5 + 40 / 4, 9);
    expect([of(seed0.key).measured, of(fista1.key).measured]).toEqual([true, true]);
    const lstm1 = plan.jobs.find((j) => j.kind === 'evaluate' && j.label === 'lstm' && j.comparison.seed === 1)!;
    expect(of(lstm1.key)).toMatchObject({ seconds: continued.perJob.find((j) => j.key === lstm1.key)!.seconds });
    expect(of(lstm1.key).measured).toBeUndefined();
  });

  it('counts the instances a fixed dataset holds, not the test count it cannot fill', async () => {
    // A fixed dataset of one LASSO instance (synthetic's first), as UCI's are one instance each.
    const synthetic = platform.registry.get('dataset', 'synthetic');
    platform.registry.add(
      'dataset',
      {
        ...synthetic,
        id: 'one-instance',
        create: (options) => {
          const inner = synthetic.create(options);
          return { ...inner, id: 'one-instance', fixed: true, instances: (request, ctx) => inner.instances({ ...request, count: 1 }, ctx) };
        },
      },
      synthetic.source,
    );
    const oneSpec = path.join(temp, 'one.yaml');
    writeFileSync(
      oneSpec,
      readFileSync(spec, 'utf8').replace('name: estimatetest', 'name: estimateone').replace('dataset: synthetic }', 'dataset: one-instance }'),
    );
    const one = planSweep(platform, { spec: oneSpec, scale: 'smoke', seeds: [0], grid: [] });
    await estimateSweep(platform, one, { workers: 1 });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, CalibrationEntry> };
    const reference = Object.values(stored.entries).find((e) => e.kind === 'reference' && e.what.dataset.id === 'one-instance')!;
    expect(reference.instances).toBe(1);
    // Fixed timings, as above: smoke tests 16 instances for 30 iterations, and the dataset has one.
    for (const e of Object.values(stored.entries)) {
      if (e.kind === 'iteration') Object.assign(e, { fixedMs: 2, perInstanceMs: 0.25, once: { fixedMs: 1, perInstanceMs: 0.5 } });
      if (e.kind === 'reference') Object.assign(e, { fixedMs: 100, perInstanceMs: 10 });
    }
    writeFileSync(file, JSON.stringify(stored));
    const estimate = await estimateSweep(platform, one, { workers: 1 });
    const job = estimate.calibration.jobStartSeconds;
    expect(estimate.perJob.find((j) => j.kind === 'evaluate' && j.label === 'fista')!.seconds).toBeCloseTo(job + (1 + 0.5 + 30 * (2 + 0.25)) / 1000, 9);
    expect(estimate.perJob.find((j) => j.kind === 'reference')!.seconds).toBeCloseTo((100 + 10) / 1000, 9);
  });
});

describe('what is timed', () => {
  it('only what is left to run: a safeguarded variant, trained with its plain model, has no training timed; a cached training none', async () => {
    const safeSpec = path.join(temp, 'safe.yaml');
    writeFileSync(
      safeSpec,
      readFileSync(spec, 'utf8')
        .replace('name: estimatetest', 'name: estimatesafe')
        .replace('  - { id: fista }', '  - { id: fista }\n  - { id: lstm, label: lstm-safe, options: { safeguard: fista } }'),
    );
    const cache = path.join(temp, 'cache-safe');
    const own = await bootPlatform({ backend: 'wasm', searchFrom: [repo], cacheDir: cache, runsDir: path.join(temp, 'runs-safe') });
    const plan = planSweep(own, { spec: safeSpec, scale: 'smoke', seeds: [0], grid: [] });
    // One training (lstm's, which lstm-safe shares), three evaluations.
    expect(plan.jobs.filter((j) => j.kind === 'train').map((j) => j.label)).toEqual(['lstm']);
    const timed = () => {
      const stored = JSON.parse(readFileSync(path.join(cache, CALIBRATION_FILE), 'utf8')) as { entries: Record<string, CalibrationEntry> };
      return Object.values(stored.entries)
        .filter((e) => e.kind === 'segment' || e.kind === 'validation' || e.kind === 'iteration')
        .map((e) => `${e.kind} ${e.what.optimizer.id}${e.what.optimizer.options?.safeguard ? '-safe' : ''}`)
        .sort();
    };
    const estimate = await estimateSweep(own, plan, { workers: 1 });
    expect(timed()).toEqual(['iteration fista', 'iteration lstm', 'iteration lstm-safe', 'segment lstm', 'validation lstm']);
    expect(estimate.perJob.find((j) => j.kind === 'train')!.seconds).toBeGreaterThan(0);

    // lstm's checkpoint cached: timed again from nothing, no training is.
    const train = plan.jobs.find((j) => j.kind === 'train')!;
    mkdirSync(path.join(cache, 'checkpoints'), { recursive: true });
    writeFileSync(path.join(cache, 'checkpoints', `${train.key}.json`), '{}');
    rmSync(path.join(cache, CALIBRATION_FILE));
    await estimateSweep(own, plan, { workers: 1 });
    expect(timed()).toEqual(['iteration fista', 'iteration lstm', 'iteration lstm-safe']);
  });
});

describe('estimating a campaign', () => {
  it('counts a job two entries share once, and an entry done when its last job is', async () => {
    // Two figures of the same comparison (as figures 1 and 2 share trainings): the second's jobs are the first's.
    writeFileSync(path.join(temp, 'second.yaml'), readFileSync(spec, 'utf8').replace('name: estimatetest', 'name: estimatesecond'));
    const file = path.join(temp, 'both.yaml');
    writeFileSync(file, 'entries:\n  - { spec: spec.yaml, scale: smoke, seeds: 2 }\n  - { spec: second.yaml, scale: smoke, seeds: 2 }\n');
    const campaign = loadCampaign(file);
    const planned = planCampaign(platform, campaign);
    const alone = await estimateSweep(platform, planned[0]!.plan, { workers: 2 });
    expect(alone.seconds).toBeGreaterThan(0);
    const estimate = await estimateCampaign(platform, campaign, planned, { stateDir: path.join(temp, 'state'), workers: 2 });
    // The second is done when the first is: its runs wait for the same trainings and evaluations.
    expect(estimate.entries).toEqual([
      { figure: 'estimatetest', scale: 'smoke', seconds: alone.seconds },
      { figure: 'estimatesecond', scale: 'smoke', seconds: alone.seconds },
    ]);
    expect(estimate.seconds).toBe(alone.seconds);
    expect(estimate.jobs).toEqual({ measured: 0, calibrated: alone.perJob.filter((j) => j.seconds > 0).length });
  });

  it('takes the times its state measured: a training under way at its own pace', async () => {
    const file = path.join(temp, 'paced.yaml');
    writeFileSync(file, 'entries:\n  - { spec: spec.yaml, scale: smoke, seeds: 0 }\n');
    const campaign = loadCampaign(file);
    const planned = planCampaign(platform, campaign);
    const train = planned[0]!.plan.jobs.find((j) => j.kind === 'train')!;
    // Kept at step 2 of 4 after 50 s: 50 s more at that pace.
    const stateDir = path.join(temp, 'state-paced');
    mkdirSync(path.join(stateDir, 'checkpoints'), { recursive: true });
    writeFileSync(
      path.join(stateDir, 'checkpoints', `${train.key}.resume.json`),
      JSON.stringify({ training: { nextStep: 2, seconds: 50, options: { globalSteps: 4 } } }),
    );
    const estimate = await estimateCampaign(platform, campaign, planned, { stateDir, workers: 1 });
    // The same sweep calibrated throughout (the state's resume state is in the cache now): one worker, so times add up.
    const calibrated = await estimateSweep(platform, planned[0]!.plan, { workers: 1 });
    const training = calibrated.perJob.find((j) => j.key === train.key)!;
    expect(training.seconds).toBeGreaterThan(0);
    expect(estimate.seconds).toBeCloseTo(calibrated.seconds - training.seconds + calibrated.calibration.jobStartSeconds + 50, 9);
    expect(estimate.jobs).toEqual({ measured: 1, calibrated: calibrated.perJob.filter((j) => j.seconds > 0).length - 1 });
  });
});
