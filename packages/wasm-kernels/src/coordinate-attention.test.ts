import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { coordinateAttention } from './coordinate-attention.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

const rng = new Rng('coordinate-attention test');
const tensor3d = (N: number, L: number, E: number, scale = 1) =>
  tf.tensor3d(
    rng.normals(N * L * E).map((x) => x * scale),
    [N, L, E],
  );

/** The attention in float64 from plain arrays: per instance, query and head, softmax(q·k_j/√d) weighted v_j. */
function attentionF64(q: number[], k: number[], v: number[], N: number, Lq: number, Lk: number, E: number, heads: number): number[] {
  const d = E / heads;
  const out = new Array<number>(N * Lq * E).fill(0);
  for (let i = 0; i < N; i++) {
    for (let t = 0; t < Lq; t++) {
      for (let h = 0; h < heads; h++) {
        const o = (i * Lq + t) * E + h * d;
        const keyAt = (j: number) => (i * Lk + j) * E + h * d;
        const s = Array.from({ length: Lk }, (_, j) => q.slice(o, o + d).reduce((acc, x, c) => acc + x * k[keyAt(j) + c]!, 0) / Math.sqrt(d));
        const max = Math.max(...s);
        const e = s.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < Lk; j++) for (let c = 0; c < d; c++) out[o + c]! += (e[j]! / sum) * v[keyAt(j) + c]!;
      }
    }
  }
  return out;
}

/** The value and the gradients in q, k and v of Σ g ⊙ attention. */
function run(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, g: tf.Tensor3D): Float32Array[] {
  return tf.tidy(() => {
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => coordinateAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, heads);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(g, f(a, b, c))))([q, k, v]);
    return [f(q, k, v), ...grads].map((t) => t.dataSync<'float32'>().slice());
  });
}

/** The largest difference, relative to each array's largest magnitude. */
const worst = (a: Float32Array[], b: Float32Array[]) =>
  Math.max(...a.map((x, i) => x.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i]![j]!)), 0) / Math.max(1e-3, ...b[i]!.map(Math.abs))));

describe('coordinateAttention on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  // [N, Lq, Lk, E, heads]: gru-mha's (hidden 16, 4 heads of 4 lanes) over more keys than a tile of
  // 64 and not a multiple of it; 8 heads of 4 lanes; 1 head of 16, 2 of 3, 4 of 2, 5 of 4 (lanes of
  // a group of four heads left empty); fewer queries than keys; fewer keys than the 4-lane kernels
  // take a step (their keys all in the tail).
  for (const [N, Lq, Lk, E, heads] of [
    [3, 150, 150, 16, 4],
    [2, 70, 70, 32, 8],
    [2, 67, 67, 16, 1],
    [3, 9, 9, 6, 2],
    [2, 65, 65, 8, 4],
    [2, 13, 13, 20, 5],
    [2, 5, 130, 16, 4],
    [2, 33, 67, 16, 4],
    [2, 1, 3, 16, 4],
  ] as const) {
    it(`runs one kernel each way and equals tfjs's ops to float32 rounding, values and gradients (N ${N}, ${Lq} queries, ${Lk} keys, E ${E}, ${heads} heads)`, async () => {
      const q = tensor3d(N, Lq, E, 2);
      const k = tensor3d(N, Lk, E, 2);
      const v = tensor3d(N, Lk, E);
      const g = tensor3d(N, Lq, E);
      let fused: Float32Array[] = [];
      const profile = await tf.profile(() => {
        fused = run(q, k, v, heads, g);
      });
      expect(profile.kernelNames).toEqual(expect.arrayContaining(['L2oCoordinateAttention', 'L2oCoordinateAttentionBackward']));
      expect(profile.kernelNames).not.toContain('Softmax');
      process.env.L2O_KERNELS = 'tfjs';
      const plain = run(q, k, v, heads, g);
      expect(worst(fused, plain)).toBeLessThan(1e-5);
      tf.dispose([q, k, v, g]);
    });
  }

  // Four heads of 4 lanes over two tiles' keys and a bit; one head of 3 lanes (three lanes of its group empty).
  it.each([
    [1, 3, 70, 16, 4],
    [2, 4, 5, 3, 1],
  ] as const)(
    'equals the attention in float64, and its gradients central finite differences (N %i, %i queries, %i keys, E %i, %i heads)',
    (N, Lq, Lk, E, heads) => {
      const q = tensor3d(N, Lq, E);
      const k = tensor3d(N, Lk, E);
      const v = tensor3d(N, Lk, E);
      const gw = rng.normals(N * Lq * E);
      const g = tf.tensor3d(gw, [N, Lq, E]);
      const [value, ...grads] = run(q, k, v, heads, g);
      const args = [q, k, v].map((t) => Array.from(t.dataSync()));
      const f64 = (a: number[][]) => attentionF64(a[0]!, a[1]!, a[2]!, N, Lq, Lk, E, heads);
      f64(args).forEach((x, i) => expect(Math.abs(value![i]! - x)).toBeLessThan(1e-6));
      const loss = (a: number[][]) => f64(a).reduce((s, x, i) => s + x * gw[i]!, 0);
      const h = 1e-4;
      args.forEach((arg, t) => {
        for (let i = 0; i < arg.length; i++) {
          const at = (delta: number) => loss(args.map((a, u) => (u === t ? a.map((x, j) => (j === i ? x + delta : x)) : a)));
          expect(Math.abs((at(h) - at(-h)) / (2 * h) - grads[t]![i]!)).toBeLessThan(2e-5);
        }
      });
      tf.dispose([q, k, v, g]);
    },
  );

  it('follows a maximum that rises key after key, and scores far below it, to float32 rounding (values and gradients)', () => {
    // Per head, the scores of query t are c_t·j/2 over the keys j: rising by 0.3 or 0.5 a key (the
    // running maximum of the 4-lane kernels moves every dozen keys or so), or falling by 0.15 or 30 a
    // key (weights of exactly 0).
    const [N, Lq, Lk, E] = [1, 4, 70, 16];
    const c = [0.6, 1, -0.3, -60];
    const q = tf.tensor3d(
      Array.from({ length: Lq * E }, (_, i) => c[Math.floor(i / E)]!),
      [N, Lq, E],
    );
    const k = tf.tensor3d(
      Array.from({ length: Lk * E }, (_, i) => Math.floor(i / E) / 4),
      [N, Lk, E],
    );
    const v = tensor3d(N, Lk, E);
    const g = tensor3d(N, Lq, E);
    const fused = run(q, k, v, 4, g);
    expect(fused.every((t) => t.every(Number.isFinite))).toBe(true);
    const value = attentionF64(...([q, k, v].map((t) => Array.from(t.dataSync())) as [number[], number[], number[]]), N, Lq, Lk, E, 4);
    value.forEach((x, i) => expect(Math.abs(fused[0]![i]! - x)).toBeLessThan(1e-5));
    process.env.L2O_KERNELS = 'tfjs';
    expect(worst(fused, run(q, k, v, 4, g))).toBeLessThan(1e-5);
    tf.dispose([q, k, v, g]);
  });

  it('takes either path of the 4-lane backward query by query, in one call, to float32 rounding', () => {
    // Queries scaled from 0.05 to 20 (score bounds on both sides of the fast path's, |s| ≤ 11), and
    // upstream gradients of 0, 1e-30 (too small to scale into the fast path) and 1 by query.
    const [N, Lq, Lk, E] = [2, 41, 67, 16];
    const scales = [0.05, 0.3, 1, 2.5, 6, 20];
    const q = tf.tensor3d(
      rng.normals(N * Lq * E).map((x, i) => x * scales[Math.floor(i / E) % scales.length]!),
      [N, Lq, E],
    );
    const k = tensor3d(N, Lk, E);
    const v = tensor3d(N, Lk, E);
    const g = tf.tensor3d(
      rng.normals(N * Lq * E).map((x, i) => x * [1, 0, 1, 1e-30, 1][Math.floor(i / E) % 5]!),
      [N, Lq, E],
    );
    const fused = run(q, k, v, 4, g);
    expect(fused.every((t) => t.every(Number.isFinite))).toBe(true);
    process.env.L2O_KERNELS = 'tfjs';
    expect(worst(fused, run(q, k, v, 4, g))).toBeLessThan(1e-5);
    tf.dispose([q, k, v, g]);
  });

  it('is tfjs ops with L2O_KERNELS=tfjs', async () => {
    process.env.L2O_KERNELS = 'tfjs';
    const x = tensor3d(2, 6, 16);
    const stock = await tf.profile(() => tf.dispose(coordinateAttention(x, x, x, 4)));
    expect(stock.kernelNames).not.toContain('L2oCoordinateAttention');
    expect(stock.kernelNames).toContain('Softmax');
    tf.dispose(x);
  });

  it('saturates without overflow on large scores, and leaves no tensor behind across repeated calls', () => {
    const q = tensor3d(2, 70, 16, 300);
    const k = tensor3d(2, 70, 16, 300);
    const v = tensor3d(2, 70, 16);
    const g = tensor3d(2, 70, 16);
    run(q, k, v, 4, g);
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    const fused = run(q, k, v, 4, g);
    run(q, k, v, 4, g);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
    expect(fused.every((t) => t.every(Number.isFinite))).toBe(true);
    process.env.L2O_KERNELS = 'tfjs';
    expect(worst(fused.slice(0, 1), run(q, k, v, 4, g).slice(0, 1))).toBeLessThan(1e-5);
    tf.dispose([q, k, v, g]);
  });
});

describe('coordinateAttention on the cpu engine', () => {
  it("is tfjs's ops", async () => {
    await selectEngine('cpu');
    const x = tensor3d(2, 6, 16);
    const profile = await tf.profile(() => tf.dispose(coordinateAttention(x, x, x, 4)));
    expect(profile.kernelNames).not.toContain('L2oCoordinateAttention');
    expect(profile.kernelNames).toContain('Softmax');
    tf.dispose(x);
    await selectEngine('wasm');
  });
});
