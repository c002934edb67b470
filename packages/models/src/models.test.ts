import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, defaultsOf, listOptions, disposeReplacedState, disposeState, evaluationPoint, selectEngine, sliceInstances, tf } from '@l2o/core';
import type { LearnedOptimizer, ModelRegistration, OptimizerState, Problem } from '@l2o/core';
import { Lasso } from '@l2o/problems';
import { register } from './plugin.js';
import * as models from './index.js';
import { tinyLassoSet } from './test-utils/tiny-lasso.js';

const registry = new PluginRegistry();
register(registry.registrarFor({ packageName: '@l2o/models', version: '0', root: '.' }));
const model = (id: string, options: Record<string, unknown> = {}) => registry.get('model', id).create(options);
const lasso: Problem = new Lasso();

beforeAll(async () => {
  await selectEngine('cpu');
});

// Closed forms with PyTorch's convention of two bias vectors per gate set.
const lstmLayer = (i: number, h: number) => 4 * h * (i + h) + 8 * h;
const gruLayer = (i: number, h: number) => 3 * h * (i + h) + 6 * h;
const linear = (i: number, o: number) => i * o + o;
const heads = (h: number) => linear(h, h) + 2 * linear(h, 1);
const mha = (e: number) => 3 * e * e + 3 * e + linear(e, e);

describe('parameter counts', () => {
  it.each([
    ['lstm', {}, lstmLayer(2, 20) + lstmLayer(20, 20) + heads(20), 5742],
    ['gru', {}, gruLayer(2, 16) + gruLayer(16, 16) + heads(16), 2898],
    ['gru-mha', {}, gruLayer(2, 16) + gruLayer(16, 16) + mha(16) + 2 * linear(16, 16) + 2 * 2 * 16 + heads(16), 4594],
    ['l2o-dm', {}, lstmLayer(2, 20) + lstmLayer(20, 20) + linear(20, 1), 5301],
    ['rnnprop', {}, linear(2, 20) + 2 * lstmLayer(20, 20) + linear(20, 1), 6801],
    ['gru', { hidden: 8, layers: 3 }, gruLayer(2, 8) + 2 * gruLayer(8, 8) + heads(8), undefined],
    ['gru-mha', { attention: { heads: 2, axis: 'history' } }, 4594, 4594],
  ] as const)('%s %j has the closed-form count', (id, options, formula, paper) => {
    const m = model(id, options);
    expect(m.parameterCount()).toBe(formula);
    if (paper !== undefined) expect(m.parameterCount()).toBe(paper);
    m.dispose();
  });
});

/** Mean over k of the batch-mean F(y_k) over `steps` iterations from the initial state. */
function segmentLoss(m: LearnedOptimizer, batch: ReturnType<Problem['toBatch']>, steps: number): tf.Scalar {
  let state = m.init(lasso, batch);
  let total: tf.Scalar = tf.scalar(0);
  for (let k = 0; k < steps; k++) {
    state = m.step(lasso, batch, state, { k, training: false });
    total = tf.add(total, tf.mean(lasso.objective(batch, evaluationPoint(state))));
  }
  return tf.div(total, steps);
}

describe('meta-gradient', () => {
  const ids = ['lstm', 'gru', 'gru-mha', 'l2o-dm', 'rnnprop'];
  // gru-mha over history: its window's key and value projections are kept from step to step.
  it.each([...ids.map((id) => [id, {}] as const), ['gru-mha', { attention: { axis: 'history', window: 3 } }] as const])(
    '%s %j: one unroll segment matches central finite differences',
    (id, options) => {
      // With inputGradient 'flow' the meta-gradient is the full derivative of the unrolled loss,
      // which finite differences measure; the papers' 'stop' is checked separately below.
      const m = model(id, { seed: 3, inputGradient: 'flow', ...options });
      const batch = lasso.toBatch(tinyLassoSet(2, 4, 6, 1));
      const { grads } = tf.variableGrads(() => segmentLoss(m, batch, 4), m.variables());
      // float32 forward passes: the loss is ~1 and carries ~1e-7 relative rounding, so with
      // ε = 3e-3 the difference quotient has ~1e-4 absolute noise; its truncation error is O(ε²).
      // An entry is checked where |g| > 1e-3, to 5% relative plus 5e-4 absolute.
      const eps = Number(process.env.FD_EPS ?? 3e-3);
      let checked = 0;
      for (const v of m.variables()) {
        const g = grads[v.name]!.dataSync();
        let j = 0;
        g.forEach((val, i) => (Math.abs(val) > Math.abs(g[j]!) ? (j = i) : null));
        if (Math.abs(g[j]!) < 1e-3) continue;
        const original = v.dataSync().slice();
        const lossAt = (delta: number) => {
          const values = original.slice();
          values[j]! += delta;
          v.assign(tf.tensor(values, v.shape));
          return tf.tidy(() => segmentLoss(m, batch, 4).dataSync()[0]!);
        };
        const [up, base, down] = [lossAt(eps), lossAt(0), lossAt(-eps)];
        const fd = (up - down) / (2 * eps);
        const forward = (up - base) / eps;
        const backward = (base - down) / eps;
        v.assign(tf.tensor(original, v.shape));
        if (process.env.FD_DEBUG) console.log(`${v.name}[${j}]: autodiff ${g[j]} vs finite differences ${fd} (forward ${forward}, backward ${backward})`);
        else expect(Math.abs(fd - g[j]!), `${v.name}[${j}]: autodiff ${g[j]} vs finite differences ${fd}`).toBeLessThan(0.05 * Math.abs(g[j]!) + 5e-4);
        checked++;
      }
      expect(checked).toBeGreaterThan(4);
      tf.dispose(grads);
      lasso.disposeBatch(batch);
      m.dispose();
    },
  );

  it.each(ids)('%s: stopping the gradient at the network inputs changes the gradient, not the loss', (id) => {
    const batch = lasso.toBatch(tinyLassoSet(2, 4, 6, 2));
    const run = (inputGradient: string) => {
      const m = model(id, { seed: 1, inputGradient });
      const { value, grads } = tf.variableGrads(() => segmentLoss(m, batch, 3), m.variables());
      const flat = Object.values(grads).flatMap((g) => Array.from(g.dataSync()));
      const result = { loss: value.dataSync()[0]!, flat };
      tf.dispose([value, ...Object.values(grads)]);
      m.dispose();
      return result;
    };
    const [stop, flow] = [run('stop'), run('flow')];
    expect(stop.loss).toBe(flow.loss);
    const diff = Math.max(...stop.flat.map((g, i) => Math.abs(g - flow.flat[i]!)));
    expect(diff).toBeGreaterThan(1e-6);
    // Gradient still reaches the backbone's first layer through the update (P and A).
    expect(Math.max(...stop.flat.map(Math.abs))).toBeGreaterThan(1e-4);
    lasso.disposeBatch(batch);
  });
});

describe('running', () => {
  it.each(['lstm', 'gru', 'gru-mha', 'l2o-dm', 'rnnprop'])('%s keeps the tensor count flat', (id) => {
    const options = id === 'gru-mha' ? { attention: { axis: 'history', window: 3 } } : {};
    const m = model(id, options);
    const batch = lasso.toBatch(tinyLassoSet(2, 4, 6, 3));
    let state: OptimizerState = tf.tidy(() => m.init(lasso, batch));
    const counts: number[] = [];
    for (let k = 0; k < 50; k++) {
      const next = tf.tidy(() => m.step(lasso, batch, state, { k, training: false }));
      disposeReplacedState(state, next);
      state = next;
      counts.push(tf.memory().numTensors);
    }
    expect(counts[49]).toBe(counts[9]);
    disposeState(state);
    lasso.disposeBatch(batch);
    m.dispose();
  });

  it("gru-mha's history keeps its window's projections only while the weights they were made with are current", () => {
    const m = model('gru-mha', { seed: 2, attention: { axis: 'history', window: 4 } });
    const batch = lasso.toBatch(tinyLassoSet(2, 4, 6, 5));
    let state: OptimizerState = tf.tidy(() => m.init(lasso, batch));
    for (let k = 0; k < 3; k++) {
      const next = tf.tidy(() => m.step(lasso, batch, state, { k, training: false }));
      disposeReplacedState(state, next);
      state = next;
    }
    // The same state without the kept projections: they are made again from the outputs.
    const withoutKept = { ...state, historyK: [], historyV: [] };
    const stepY = (s: OptimizerState) => tf.tidy(() => Array.from((m.step(lasso, batch, s, { k: 3, training: false }).y as tf.Tensor).dataSync()));
    const kept = stepY(state);
    stepY(withoutKept).forEach((v, i) => expect(kept[i]).toBeCloseTo(v, 6));
    // Under a gradient recording (a training segment) projections kept from outside it have no
    // gradient path: they are made again, and the gradient is that of the outputs alone.
    const gradsFrom = (s: OptimizerState) =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const next = m.step(lasso, batch, m.step(lasso, batch, s, { k: 3, training: false }), { k: 4, training: false });
          return tf.mean(lasso.objective(batch, evaluationPoint(next)));
        }, m.variables());
        return Object.values(grads).flatMap((g) => Array.from(g.dataSync()));
      });
    expect(gradsFrom(state)).toEqual(gradsFrom(withoutKept));
    // New weights (an optimizer step assigns new buffers): the kept projections are stale.
    m.setWeights(Object.fromEntries(Object.entries(m.getWeights()).map(([name, w]) => [name, { ...w, data: w.data.map((v) => v * 1.5) }])));
    expect(stepY(state)).toEqual(stepY(withoutKept));
    disposeState(state);
    lasso.disposeBatch(batch);
    m.dispose();
  });

  it.each([
    ['gru-mha', { attention: { axis: 'coordinates' } }],
    ['gru-mha', { attention: { axis: 'coordinates', kernel: 'linear' } }],
    ['lstm', {}],
  ] as const)('%s %j gives each instance a result independent of the rest of the batch', (id, options) => {
    const m = model(id, options);
    const set = tinyLassoSet(3, 4, 6, 4);
    const run = (s: typeof set) => {
      const batch = lasso.toBatch(s);
      let state = m.init(lasso, batch);
      for (let k = 0; k < 5; k++) state = m.step(lasso, batch, state, { k, training: false });
      const y = Array.from(evaluationPoint(state).dataSync());
      lasso.disposeBatch(batch);
      return y;
    };
    const together = run(set);
    const alone = run(sliceInstances(set, 1, 1));
    alone.forEach((v, j) => expect(v).toBeCloseTo(together[6 + j]!, 5));
    m.dispose();
  });

  it('round-trips weights and refuses those of another config', () => {
    const a = model('gru-mha', { seed: 1 });
    const b = model('gru-mha', { seed: 2 });
    b.setWeights(a.getWeights());
    const batch = lasso.toBatch(tinyLassoSet(2, 4, 6, 5));
    const out = (m: LearnedOptimizer) => Array.from(m.step(lasso, batch, m.init(lasso, batch), { k: 0, training: false }).y!.dataSync());
    expect(out(b)).toEqual(out(a));
    const other = model('gru-mha', { hidden: 8, attention: { heads: 2 } });
    expect(() => other.setWeights(a.getWeights())).toThrow(/weight 'backbone.rnn.weight_ih_l0' has shape \[48, 2\], expected \[24, 2\]/);
    expect(() => model('gru').setWeights(a.getWeights())).toThrow(/is not part of this model/);
    lasso.disposeBatch(batch);
    for (const m of [a, b, other]) m.dispose();
  });

  it('rejects unknown options with the known ones', () => {
    expect(() => model('gru-mha', { attention: { axes: 'history' } })).toThrow(
      /Unknown option 'attention.axes' for model 'gru-mha'. Did you mean 'attention.axis'\?/,
    );
    expect(() => model('gru-mha', { attention: { heads: 3 } })).toThrow(/'attention.heads' of model 'gru-mha' must divide the hidden width 16, got 3/);
    expect(() => model('lstm', { hidden: 0 })).toThrow(/Option 'hidden' of model 'lstm' must be an integer ≥ 1/);
  });

  it('describes its default config', () => {
    const reg = registry.get('model', 'gru-mha') as ModelRegistration;
    expect(reg.defaultConfig()).toMatchObject({ hidden: 16, layers: 2, attention: { axis: 'coordinates', heads: 4, window: 8 }, pNorm: '2sigmoid' });
  });

  it('exposes its option fields for listings, the same that give the default config', () => {
    for (const id of registry.ids('model')) {
      const reg = registry.get('model', id);
      // Besides its own options every model lists core's safeguard options, which are not part of its config.
      const { safeguard, safeguardDecay, safeguardStep, ...own } = defaultsOf(reg.options!) as Record<string, unknown>;
      expect(own, id).toEqual(reg.defaultConfig());
      expect({ safeguard, safeguardDecay, safeguardStep }, id).toEqual({ safeguard: 'none', safeguardDecay: 0.9, safeguardStep: 'lipschitz' });
    }
    expect(listOptions(registry.get('model', 'gru-mha').options).find((o) => o.name === 'attention.heads')).toMatchObject({ default: 4 });
    // Model authors still import the fields from @l2o/models (README, docs/plugins.md).
    expect(models.intOption(3, 'x').default).toBe(3);
    expect(typeof models.resolveOptions).toBe('function');
  });
});
