// Parity with PyTorch. The layers claim PyTorch's semantics and weight names; these tests hold
// them to it: golden fixtures from PyTorch in float64 (scripts/golden/make_golden.py; see its
// README to regenerate) give the weights under our names, the inputs, the outputs and the
// gradients of a scalar loss L = Σ_k Σ(output_k ⊙ R_k) (R_k fixed random tensors) with respect to
// the inputs and every weight. Each layer (and one step of the PA models) is built here with
// setWeights, run in tfjs, and compared. No python is needed to run them.
//
// Tolerances: the fixtures' inputs and weights are float32 values, so tfjs starts from exactly
// PyTorch's numbers and the only difference is tfjs's float32 arithmetic (unit roundoff 6e-8).
// A few dozen dependent operations (3 time steps × 2 layers of gates, attention's softmax and
// sums) accumulate a few times 1e-7 of the magnitude; the reference itself (float64, written to
// within 5e-8 of each tensor's largest entry) is exact by comparison. So a tensor passes when
//   max |tfjs − PyTorch| ≤ rtol · max |PyTorch|   (over that tensor),
// with rtol 1e-5 for values and 1e-4 for gradients (the backward pass runs about twice the
// operations and sums products of opposite signs). A wrong gate order, bias, scale or eps gives
// errors of order 1e-2 to 1 of the magnitude, far above either.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectEngine, tf } from '@l2o/core';
import type { OptimizerState, ProblemBatch, SerializedWeights } from '@l2o/core';
import { Lasso } from '@l2o/problems';
import { WeightStore } from './weights.js';
import { StackedGru, StackedLstm } from './layers/stacked-rnn.js';
import { MultiHeadAttention } from './layers/multi-head-attention.js';
import { Linear } from './layers/linear.js';
import { LayerNorm } from './layers/layer-norm.js';
import { definePaModel } from './pa/define.js';
import { lstmModel } from './backbones/lstm.js';
import { gruMhaModel } from './backbones/gru-mha.js';
import type { PaOptimizer } from './pa/pa-optimizer.js';

const VALUE_RTOL = 1e-5;
const GRAD_RTOL = 1e-4;

interface Fixed {
  shape: number[];
  data: number[];
}
type Entry = Fixed | Fixed[];
interface Case {
  inputs: Record<string, Entry>;
  outputs: Record<string, Fixed>;
  lossWeights: Record<string, Fixed>;
  loss: number;
  grads: { inputs: Record<string, Entry>; weights: SerializedWeights };
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./test-fixtures/golden/${name}`, import.meta.url), 'utf8')) as T;
}

const tensorOf = (f: Fixed) => tf.tensor(f.data, f.shape);

/** Largest errors seen, by label (printed with PARITY_REPORT=1). */
const worst: { label: string; err: number; scale: number; rtol: number }[] = [];

function expectClose(label: string, actual: tf.Tensor, expected: Fixed, rtol: number): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  let err = 0;
  let scale = 0;
  expected.data.forEach((e, i) => {
    err = Math.max(err, Math.abs(a[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  worst.push({ label, err, scale, rtol });
  expect(err, `${label}: max |tfjs − PyTorch| = ${err.toExponential(2)}, max |PyTorch| = ${scale.toExponential(2)}`).toBeLessThanOrEqual(rtol * scale);
}

/**
 * Turns the case's inputs into variables, runs `forward` on them for the outputs, then takes the
 * gradients of L with respect to the inputs and the weights, and compares all with the fixture.
 */
function checkCase(
  label: string,
  fixture: Case,
  weights: { names: string[]; variables: tf.Variable[] },
  forward: (inputs: Record<string, tf.Variable | tf.Variable[]>) => Record<string, tf.Tensor>,
): void {
  const inputs: Record<string, tf.Variable | tf.Variable[]> = {};
  for (const [k, v] of Object.entries(fixture.inputs)) inputs[k] = Array.isArray(v) ? v.map((t) => tf.variable(tensorOf(t))) : tf.variable(tensorOf(v));
  const inputVariables = Object.values(inputs).flat();
  tf.tidy(() => {
    const outputs = forward(inputs);
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(fixture.outputs).sort());
    for (const [k, expected] of Object.entries(fixture.outputs)) expectClose(`${label} output ${k}`, outputs[k]!, expected, VALUE_RTOL);

    const loss = () => {
      const out = forward(inputs);
      return Object.entries(fixture.lossWeights).reduce<tf.Scalar>((sum, [k, r]) => tf.add(sum, tf.sum(tf.mul(out[k]!, tensorOf(r)))), tf.scalar(0));
    };
    const { grads } = tf.variableGrads(loss, [...weights.variables, ...inputVariables]);
    weights.names.forEach((name, i) => {
      const expected = fixture.grads.weights[name];
      expect(expected, `${label}: the fixture has a gradient for ${name}`).toBeDefined();
      expectClose(`${label} dL/d${name}`, grads[weights.variables[i]!.name]!, expected!, GRAD_RTOL);
    });
    for (const [k, v] of Object.entries(inputs)) {
      const expected = fixture.grads.inputs[k]!;
      if (Array.isArray(v)) v.forEach((t, j) => expectClose(`${label} dL/d${k}[${j}]`, grads[t.name]!, (expected as Fixed[])[j]!, GRAD_RTOL));
      else expectClose(`${label} dL/d${k}`, grads[v.name]!, expected as Fixed, GRAD_RTOL);
    }
  });
  tf.dispose(inputVariables);
}

const storeWeights = (store: WeightStore) => ({ names: store.names(), variables: store.variables() });

afterAll(() => {
  if (!process.env.PARITY_REPORT) return;
  for (const w of worst)
    console.log(`${w.label.padEnd(60)} max abs err ${w.err.toExponential(2)}  rel ${(w.err / (w.scale || 1)).toExponential(2)}  (bound ${w.rtol})`);
});

type RnnFixture = Case & { config: { inputSize: number; hidden: number; layers: number }; weights: SerializedWeights };
type MhaFixture = { config: { embedDim: number; heads: number }; weights: SerializedWeights; cases: Record<'coordinates' | 'history', Case> };
type SimpleFixture = Case & { config: Record<string, number>; weights: SerializedWeights };
type PaFixture = {
  options: Record<string, unknown>;
  problem: { batch: number; m: number; n: number; lambda: number; A: Fixed; b: Fixed; L: Fixed };
  weights: SerializedWeights;
  cases: Record<string, Case>;
};

const paModels = { lstm: definePaModel(lstmModel), 'gru-mha': definePaModel(gruMhaModel) };

describe.each(['cpu', 'wasm'] as const)('parity with PyTorch (float64 golden fixtures), %s engine', (engine) => {
  beforeAll(async () => {
    await selectEngine(engine);
  });

  it.each(['lstm', 'gru'] as const)('stacked %s (nn.LSTM / nn.GRU, 2 layers, 3 steps from a non-zero state)', (kind) => {
    const fx = load<RnnFixture>(`${kind}.json`);
    const { inputSize, hidden, layers } = fx.config;
    const store = new WeightStore(`parity-${kind}`, 0);
    const rnn = kind === 'lstm' ? new StackedLstm(store, inputSize, hidden, layers) : new StackedGru(store, inputSize, hidden, layers);
    store.setWeights(fx.weights, `stacked ${kind}`);
    checkCase(kind, fx, storeWeights(store), (inp) => {
      let h = tf.unstack(inp.h0 as tf.Variable) as tf.Tensor2D[];
      let c = kind === 'lstm' ? (tf.unstack(inp.c0 as tf.Variable) as tf.Tensor2D[]) : [];
      const outputs: tf.Tensor2D[] = [];
      for (const x of tf.unstack(inp.x as tf.Variable) as tf.Tensor2D[]) {
        if (rnn instanceof StackedLstm) {
          const next = rnn.apply(x, h, c);
          [h, c] = [next.h, next.c];
          outputs.push(next.output);
        } else {
          const next = rnn.apply(x, h);
          h = next.h;
          outputs.push(next.output);
        }
      }
      return { output: tf.stack(outputs), h: tf.stack(h), ...(kind === 'lstm' ? { c: tf.stack(c) } : {}) };
    });
    store.dispose();
  });

  it.each(['coordinates', 'history'] as const)('multi-head attention (nn.MultiheadAttention, 4 heads), %s tokens', (axis) => {
    const fx = load<MhaFixture>('mha.json');
    const store = new WeightStore('parity-mha', 0);
    const mha = new MultiHeadAttention(store, fx.config.embedDim, fx.config.heads);
    store.setWeights(fx.weights, 'multi-head attention');
    checkCase(`mha ${axis}`, fx.cases[axis], storeWeights(store), (inp) => {
      if (axis === 'coordinates') {
        const t = inp.tokens as tf.Tensor3D;
        return { output: mha.apply(t, t, t) };
      }
      return { output: mha.apply(inp.query as tf.Tensor3D, inp.keyValue as tf.Tensor3D, inp.keyValue as tf.Tensor3D) };
    });
    if (axis === 'history') {
      // The same attention with the keys and values given tokens first ([Lk, N, E]), as gru-mha's history does.
      checkCase('mha history, tokens first', fx.cases.history, storeWeights(store), (inp) => {
        const kv = tf.transpose(inp.keyValue as tf.Tensor3D, [1, 0, 2]);
        return { output: mha.apply(inp.query as tf.Tensor3D, kv, kv, 'softmax', true) };
      });
    }
    store.dispose();
  });

  it('linear (nn.Linear)', () => {
    const fx = load<{ linear: SimpleFixture }>('linear-layernorm.json').linear;
    const store = new WeightStore('parity-linear', 0);
    const linear = new Linear(store, fx.config.inFeatures!, fx.config.outFeatures!);
    store.setWeights(fx.weights, 'linear');
    checkCase('linear', fx, storeWeights(store), (inp) => ({ output: linear.apply(inp.x as tf.Tensor2D) }));
    store.dispose();
  });

  it('layer norm (nn.LayerNorm, eps 1e-5, non-trivial weight and bias)', () => {
    const fx = load<{ layerNorm: SimpleFixture }>('linear-layernorm.json').layerNorm;
    const store = new WeightStore('parity-layernorm', 0);
    const ln = new LayerNorm(store, fx.config.size!);
    expect(ln.eps).toBe(fx.config.eps);
    store.setWeights(fx.weights, 'layer norm');
    checkCase('layer norm', fx, storeWeights(store), (inp) => ({ output: ln.apply(inp.x as tf.Tensor2D) }));
    store.dispose();
  });

  it.each([
    ['lstm', 'coordinates'],
    ['gru-mha', 'coordinates'],
    ['gru-mha', 'history'],
  ] as const)('one PA step of %s (%s attention axis where it has one), as torch_reference.py', (kind, axis) => {
    const fx = load<PaFixture>(`pa-${kind}.json`);
    const options = kind === 'gru-mha' ? { ...fx.options, attention: { ...(fx.options.attention as object), axis } } : fx.options;
    const model = paModels[kind].create(options) as PaOptimizer;
    model.setWeights(fx.weights);
    const lasso = new Lasso();
    const p = fx.problem;
    // L as PyTorch computed it (exactly), not our power iteration: the step s = 0.9999/L is then the same.
    const batch: ProblemBatch = {
      problem: 'lasso',
      size: p.batch,
      m: p.m,
      n: p.n,
      lambda: p.lambda,
      sharedA: false,
      A: tensorOf(p.A) as tf.Tensor3D,
      b: tensorOf(p.b) as tf.Tensor2D,
      L: tensorOf(p.L) as tf.Tensor1D,
    };
    checkCase(`pa ${kind} ${axis}`, fx.cases[axis]!, { names: model.weights.names(), variables: model.variables() }, (inp) => {
      const state: OptimizerState = {
        x: inp.x as tf.Tensor2D,
        y: inp.y as tf.Tensor2D,
        h: tf.unstack(inp.h as tf.Variable),
        ...(kind === 'lstm' ? { c: tf.unstack(inp.c as tf.Variable) } : {}),
        ...(axis === 'history' && kind === 'gru-mha' ? { history: inp.history, historyK: [], historyV: [] } : {}),
      };
      const next = model.step(lasso, batch, state as Parameters<PaOptimizer['step']>[2], { k: 0, training: false });
      return {
        x: next.x,
        y: next.y,
        h: tf.stack(next.h as tf.Tensor[]),
        ...(kind === 'lstm' ? { c: tf.stack(next.c as tf.Tensor[]) } : {}),
      };
    });
    lasso.disposeBatch(batch);
    model.dispose();
  });
});
