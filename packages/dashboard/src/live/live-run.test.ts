import { describe, expect, it } from 'vitest';
import { evaluateOptimizer, selectEngine, tf } from '@l2o/core';
import { drawLiveInstance, liveRegistry, runLive, type LiveCheckpoint } from './live-run.js';

// The live page's numbers are the platform's: runLive on an instance equals core's evaluator
// (the loop every run uses) on the same instance and weights.
describe('runLive', () => {
  it("gives, per iteration, the evaluator's F and relative gap, for the learned optimizer and FISTA, without leaking tensors", async () => {
    await selectEngine('wasm');
    const registry = liveRegistry();
    const model = registry.get('model', 'gru').create({});
    const checkpoint: LiveCheckpoint = { modelId: 'gru', config: model.config, weights: model.getWeights() };
    const problem = { id: 'lasso', options: {} };
    const datasetOptions = { preset: 'toy' };
    const seen: string[] = [];
    const before = tf.memory().numTensors;
    const live = await runLive({ checkpoint, problem, datasetOptions, seed: 5, iterations: 15 }, (label, k) => void seen.push(`${label}@${k}`));
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toHaveLength(2 * 16);
    expect(live.curves.map((c) => c.label)).toEqual(['gru', 'fista']);

    const set = drawLiveInstance('lasso', datasetOptions, 5);
    expect(set.count).toBe(1);
    const lasso = registry.get('problem', 'lasso').create({});
    const withStar = { ...set, fStar: Float64Array.of(live.fStar) };
    for (const [i, optimizer] of [model, registry.get('optimizer', 'fista').create({})].entries()) {
      const curve = await evaluateOptimizer(lasso, optimizer, withStar, { iterations: 15, batchSize: 1 });
      for (let k = 0; k <= 15; k++) {
        expect(live.curves[i]!.f[k]).toBeCloseTo(curve.meanF[k]!, 5);
        expect(live.curves[i]!.gap[k]).toBeCloseTo(curve.meanGap[k]!, 5);
      }
    }
    // F* is the reference solver's: FISTA from the same start gets close to it, never below it by more than float32 noise.
    expect(live.curves[1]!.gap.at(-1)!).toBeGreaterThan(-1e-5);
    model.dispose();
  }, 120_000);
});
