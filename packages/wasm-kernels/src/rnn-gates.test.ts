import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { gruGates, lstmGates, rnnGatesFused } from './rnn-gates.js';
import { rnnGatesWasm } from './wasm-modules.generated.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

const rng = new Rng('lstm-gates test');

/** The shapes of the tensors tfjs made from JavaScript arrays while `run` ran (how it gives an output nothing used a gradient: zeros). */
function shapesMadeInJavaScript(run: () => void): number[][] {
  const engine = tf.engine() as unknown as { makeTensor: (values: unknown, shape: number[], ...rest: unknown[]) => tf.Tensor };
  const make = engine.makeTensor;
  const shapes: number[][] = [];
  engine.makeTensor = (values, shape, ...rest) => {
    shapes.push(shape);
    return make.call(engine, values, shape, ...rest);
  };
  try {
    run();
  } finally {
    engine.makeTensor = make;
  }
  return shapes;
}

/** The WebAssembly API as used here (Node 20's type declarations have none). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
    };
  }
).WebAssembly;

/** The module's σ and tanh on `xs` (its `unary` export, on a memory of its own). */
function unary(xs: number[], f: 0 | 1): Float32Array {
  const memory = new wasm.Memory({ initial: 1 });
  const { exports } = new wasm.Instance(new wasm.Module(rnnGatesWasm), { env: { memory } }) as {
    exports: { unary: (x: number, y: number, count: number, f: number) => void };
  };
  const count = Math.ceil(xs.length / 4) * 4;
  new Float32Array(memory.buffer, 0, count).set(xs);
  exports.unary(0, count * 4, count, f);
  return new Float32Array(memory.buffer, count * 4, xs.length).slice();
}

/** The worst of |actual − expected| / (|expected| + floor), against float64 references. */
function worstError(actual: Float32Array, xs: number[], reference: (x: number) => number, floor = 0): number {
  let worst = 0;
  xs.forEach((x, i) => {
    const e = reference(Math.fround(x));
    worst = Math.max(worst, Math.abs(actual[i]! - e) / (Math.abs(e) + floor));
  });
  return worst;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// Points across every branch: tiny, both signs, the reduction's ranges, saturation, the cut-off at −87.3.
const POINTS = [
  0,
  -0,
  1e-8,
  -1e-6,
  1e-3,
  0.1,
  -0.3,
  0.5,
  0.62,
  0.625,
  -0.63,
  1,
  -1.5,
  2.3,
  5,
  -7.7,
  9,
  15,
  -20,
  30,
  44,
  -60,
  80,
  -86.9,
  87.9,
  ...Array.from({ length: 400 }, (_, i) => -20 + i * 0.1 + 0.0137),
];

describe('the gates module: σ and tanh in four lanes', () => {
  it('σ within 4 ulp of float32 (relative, down to σ ≈ 1e-38), and 0 / 1 at the ends', () => {
    expect(worstError(unary(POINTS, 0), POINTS, sigmoid, 1e-38)).toBeLessThan(4 * 2 ** -24);
    expect(Array.from(unary([-1000, -88, 1000, 100], 0))).toEqual([0, 0, 1, 1]);
  });
  it('tanh = 2σ(2x) − 1 within 3e-7 absolute (what the models compute on tfjs too), ±1 at the ends', () => {
    expect(worstError(unary(POINTS, 1), POINTS, Math.tanh, 1)).toBeLessThan(3e-7);
    expect(Array.from(unary([-1000, 1000], 1))).toEqual([-1, 1]);
  });
});

/** The worst difference between two runs' outputs, relative to 1 + |b|. */
function worstDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((t, k) => t.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[k]![i]!) / (1 + Math.abs(b[k]![i]!))))));
  return worst;
}

/** Each gradient entry against a central difference of `loss` (float64) in that entry of `args`. */
function expectFiniteDifferences(args: number[][], loss: (a: number[][]) => number, grads: Float32Array[]) {
  args.forEach((arg, a) =>
    arg.forEach((_, i) => {
      const at = (d: number) => loss(args.map((v, k) => (k === a ? v.map((y, j) => (j === i ? y + d : y)) : v)));
      const fd = (at(1e-6) - at(-1e-6)) / 2e-6;
      expect(Math.abs(grads[a]![i]! - fd)).toBeLessThan(1e-5 * (1 + Math.abs(fd)));
    }),
  );
}

/** The LSTM gates in float64, for finite differences: returns h' and c'. */
function gatesF64(ax: number[], ah: number[], bi: number[], bh: number[], c: number[], rows: number, H: number) {
  const h2: number[] = [];
  const c2: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < H; j++) {
      const z = (k: number) => ax[r * 4 * H + k * H + j]! + ah[r * 4 * H + k * H + j]! + bi[k * H + j]! + bh[k * H + j]!;
      const cn = sigmoid(z(1)) * c[r * H + j]! + sigmoid(z(0)) * Math.tanh(z(2));
      c2.push(cn);
      h2.push(sigmoid(z(3)) * Math.tanh(cn));
    }
  }
  return { h2, c2 };
}

describe('lstmGates on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  const inputs = (rows: number, H: number, scale = 1) => ({
    ax: tf.tensor2d(
      rng.normals(rows * 4 * H).map((v) => v * scale),
      [rows, 4 * H],
    ),
    ah: tf.tensor2d(
      rng.normals(rows * 4 * H).map((v) => v * scale),
      [rows, 4 * H],
    ),
    bi: tf.tensor1d(rng.normals(4 * H)),
    bh: tf.tensor1d(rng.normals(4 * H)),
    c: tf.tensor2d(rng.normals(rows * H), [rows, H]),
  });
  type Inputs = ReturnType<typeof inputs>;
  const all = (x: Inputs) => [x.ax, x.ah, x.bi, x.bh, x.c];
  const gates = (x: Inputs) => lstmGates(x.ax, x.ah, x.bi, x.bh, x.c);

  /** h', c' and the gradients of Σ wh ⊙ h' + Σ wc ⊙ c' (either weight may be absent) in ax, ah, b_ih, b_hh and c. */
  function run(x: Inputs, wh: tf.Tensor | null, wc: tf.Tensor | null) {
    return tf.tidy(() => {
      const loss = (...args: tf.Tensor[]) => {
        const [ax, ah, bi, bh, c] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D];
        const out = lstmGates(ax, ah, bi, bh, c);
        const terms = [wh && tf.sum(tf.mul(wh, out.h)), wc && tf.sum(tf.mul(wc, out.c))].filter((t): t is tf.Tensor => t !== null);
        return tf.addN(terms) as tf.Scalar;
      };
      const out = gates(x);
      const grads = tf.grads(loss)(all(x));
      return [out.h, out.c, ...grads].map((t) => t.dataSync<'float32'>().slice());
    });
  }

  for (const [rows, H] of [
    [500, 20],
    [7, 4],
    [1, 8],
  ] as const) {
    it(`runs one kernel each way and equals tfjs's ops to float32 rounding, values and gradients ([${rows}, 4·${H}])`, async () => {
      const x = inputs(rows, H);
      const wh = tf.tensor2d(rng.normals(rows * H), [rows, H]);
      const wc = tf.tensor2d(rng.normals(rows * H), [rows, H]);
      let fused: Float32Array[] = [];
      const profile = await tf.profile(() => {
        fused = run(x, wh, wc);
      });
      expect(profile.kernelNames).toEqual(expect.arrayContaining(['L2oLstmGates', 'L2oLstmGatesBackward']));
      process.env.L2O_KERNELS = 'tfjs';
      const plain = run(x, wh, wc);
      // The bias gradient sums `rows` terms: its rounding grows with them.
      expect(worstDifference(fused, plain)).toBeLessThan(8e-7 * Math.max(1, Math.sqrt(rows)));
      tf.dispose([...all(x), wh, wc]);
    });
  }

  it('equals the same with an output unused (its gradient comes as zeros)', () => {
    const x = inputs(9, 8);
    const w = tf.tensor2d(rng.normals(9 * 8), [9, 8]);
    const onlyH = run(x, w, null);
    const onlyC = run(x, null, w);
    process.env.L2O_KERNELS = 'tfjs';
    expect(worstDifference(onlyH, run(x, w, null))).toBeLessThan(1e-6);
    expect(worstDifference(onlyC, run(x, null, w))).toBeLessThan(1e-6);
    tf.dispose([...all(x), w]);
  });

  it("gives the backward's activations, [rows, 4H], no gradient of zeros (they are saved, not an output)", () => {
    const x = inputs(64, 8);
    const w = tf.tensor2d(rng.normals(64 * 8), [64, 8]);
    const shapes = shapesMadeInJavaScript(() => run(x, w, w));
    expect(shapes.length).toBeGreaterThan(0); // the spy sees what tfjs makes (the loss's seed gradient)
    expect(shapes).not.toContainEqual([64, 32]);
    tf.dispose([...all(x), w]);
  });

  it('has the gradients of central finite differences of the cell in float64', () => {
    const rows = 2;
    const H = 4;
    const x = inputs(rows, H);
    const wh = rng.normals(rows * H);
    const wc = rng.normals(rows * H);
    const args = all(x).map((t) => Array.from(t.dataSync()));
    const loss = ([ax, ah, bi, bh, cc]: number[][]) => {
      const { h2, c2 } = gatesF64(ax!, ah!, bi!, bh!, cc!, rows, H);
      return h2.reduce((s, v, i) => s + v * wh[i]!, 0) + c2.reduce((s, v, i) => s + v * wc[i]!, 0);
    };
    const weights = [tf.tensor2d(wh, [rows, H]), tf.tensor2d(wc, [rows, H])];
    const grads = run(x, weights[0]!, weights[1]!).slice(2);
    tf.dispose(weights);
    expectFiniteDifferences(args, loss, grads);
    tf.dispose(all(x));
  });

  it('saturates without overflow on large pre-activations', () => {
    const x = inputs(4, 4, 200);
    const w = tf.ones([4, 4]);
    const [h, c, ...grads] = run(x, w, w);
    for (const t of [h, c, ...grads]) expect(t!.every(Number.isFinite)).toBe(true);
    expect(h!.every((v) => Math.abs(v) <= 1)).toBe(true);
    tf.dispose([...all(x), w]);
  });

  it('leaves no tensor behind, with and without a tape', () => {
    const x = inputs(12, 8);
    const w = tf.ones([12, 8]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      gates(x);
    });
    run(x, w, null);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...all(x), w]);
  });

  it('falls back to tfjs where H is not a multiple of 4, and with L2O_KERNELS=tfjs', async () => {
    expect(rnnGatesFused(20)).toBe(true);
    expect(rnnGatesFused(6)).toBe(false);
    const x = inputs(3, 6);
    const profile = await tf.profile(() => tf.tidy(() => gates(x).h));
    expect(profile.kernelNames).not.toContain('L2oLstmGates');
    process.env.L2O_KERNELS = 'tfjs';
    expect(rnnGatesFused(20)).toBe(false);
    tf.dispose(all(x));
  });
});

/** The GRU gates in float64, for finite differences: returns h'. */
function gruF64(ax: number[], ah: number[], bi: number[], bh: number[], h: number[], rows: number, H: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < H; j++) {
      const x = (k: number) => ax[r * 3 * H + k * H + j]! + bi[k * H + j]!;
      const y = (k: number) => ah[r * 3 * H + k * H + j]! + bh[k * H + j]!;
      const rg = sigmoid(x(0) + y(0));
      const z = sigmoid(x(1) + y(1));
      const n = Math.tanh(x(2) + rg * y(2));
      out.push(n + z * (h[r * H + j]! - n));
    }
  }
  return out;
}

describe('gruGates on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  const inputs = (rows: number, H: number) => [
    tf.tensor2d(rng.normals(rows * 3 * H), [rows, 3 * H]),
    tf.tensor2d(rng.normals(rows * 3 * H), [rows, 3 * H]),
    tf.tensor1d(rng.normals(3 * H)),
    tf.tensor1d(rng.normals(3 * H)),
    tf.tensor2d(rng.normals(rows * H), [rows, H]),
  ];

  /** h' and the gradients of Σ w ⊙ h' in all five inputs. */
  function run(x: tf.Tensor[], w: tf.Tensor) {
    return tf.tidy(() => {
      const gates = (...t: tf.Tensor[]) => gruGates(t[0] as tf.Tensor2D, t[1] as tf.Tensor2D, t[2] as tf.Tensor1D, t[3] as tf.Tensor1D, t[4] as tf.Tensor2D);
      const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(w, gates(...t))))(x);
      return [gates(...x), ...grads].map((t) => t.dataSync<'float32'>().slice());
    });
  }

  for (const [rows, H] of [
    [500, 20],
    [5, 4],
  ] as const) {
    it(`runs one kernel each way and equals tfjs's ops to float32 rounding, values and gradients ([${rows}, 3·${H}])`, async () => {
      const x = inputs(rows, H);
      const w = tf.tensor2d(rng.normals(rows * H), [rows, H]);
      let fused: Float32Array[] = [];
      const profile = await tf.profile(() => {
        fused = run(x, w);
      });
      expect(profile.kernelNames).toEqual(expect.arrayContaining(['L2oGruGates', 'L2oGruGatesBackward']));
      process.env.L2O_KERNELS = 'tfjs';
      const plain = run(x, w);
      expect(worstDifference(fused, plain)).toBeLessThan(8e-7 * Math.max(1, Math.sqrt(rows)));
      tf.dispose([...x, w]);
    });
  }

  it('has the gradients of central finite differences of the cell in float64', () => {
    const [rows, H] = [2, 4];
    const x = inputs(rows, H);
    const w = rng.normals(rows * H);
    const args = x.map((t) => Array.from(t.dataSync()));
    const loss = (a: number[][]) => gruF64(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, rows, H).reduce((s, v, i) => s + v * w[i]!, 0);
    const wt = tf.tensor2d(w, [rows, H]);
    const grads = run(x, wt).slice(1);
    wt.dispose();
    expectFiniteDifferences(args, loss, grads);
    tf.dispose(x);
  });

  it("gives the backward's activations, [rows, 4H], no gradient of zeros (they are saved, not an output)", () => {
    const x = inputs(64, 8);
    const w = tf.tensor2d(rng.normals(64 * 8), [64, 8]);
    const shapes = shapesMadeInJavaScript(() => run(x, w));
    expect(shapes.length).toBeGreaterThan(0); // the spy sees what tfjs makes (the loss's seed gradient)
    expect(shapes).not.toContainEqual([64, 32]);
    tf.dispose([...x, w]);
  });

  it('leaves no tensor behind', () => {
    const x = inputs(6, 8);
    const w = tf.ones([6, 8]);
    const before = tf.memory().numTensors;
    run(x, w);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...x, w]);
  });
});
