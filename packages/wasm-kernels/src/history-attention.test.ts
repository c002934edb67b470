import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Rng, selectEngine, tf } from '@l2o/core';
import { historyAttention } from './history-attention.js';
// Registers the kernels with the engine selection, as importing the package does.
import './extension.js';

const rng = new Rng('history-attention test');
const tensor2d = (rows: number, E: number, scale = 1) =>
  tf.tensor2d(
    rng.normals(rows * E).map((x) => x * scale),
    [rows, E],
  );

/** The attention in float64 from plain arrays: per row and head, softmax(q·k_w/√d) weighted v_w. */
function attentionF64(q: number[], keys: number[][], values: number[][], rows: number, E: number, heads: number): number[] {
  const d = E / heads;
  const out = new Array<number>(rows * E).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < heads; h++) {
      const o = r * E + h * d;
      const s = keys.map((k) => q.slice(o, o + d).reduce((acc, x, j) => acc + x * k[o + j]!, 0) / Math.sqrt(d));
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, b) => a + b, 0);
      values.forEach((v, w) => {
        for (let j = 0; j < d; j++) out[o + j]! += (e[w]! / sum) * v[o + j]!;
      });
    }
  }
  return out;
}

/** The value and the gradients in q, every key and every value of Σ g ⊙ attention. */
function run(q: tf.Tensor2D, keys: tf.Tensor2D[], values: tf.Tensor2D[], heads: number, g: tf.Tensor2D): Float32Array[] {
  return tf.tidy(() => {
    const W = keys.length;
    const f = (...t: tf.Tensor[]) => historyAttention(t[0] as tf.Tensor2D, t.slice(1, 1 + W) as tf.Tensor2D[], t.slice(1 + W) as tf.Tensor2D[], heads);
    const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(g, f(...t))))([q, ...keys, ...values]);
    return [f(q, ...keys, ...values), ...grads].map((t) => t.dataSync<'float32'>().slice());
  });
}

const worst = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((x, i) => x.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i]![j]!)), 0)));

describe('historyAttention on WASM', () => {
  beforeAll(async () => {
    await selectEngine('wasm');
  });
  afterEach(() => {
    delete process.env.L2O_KERNELS;
  });

  // [rows, E, heads, W]: gru-mha's (hidden 16, 4 heads, window 8: four heads of 4 lanes at a time)
  // and shorter windows, 8 heads of 4 lanes; head by head: heads of 8 lanes, odd token counts (the
  // four-at-a-time exponentials and their tail).
  for (const [rows, E, heads, W] of [
    [300, 16, 4, 8],
    [7, 16, 4, 1],
    [6, 32, 8, 5],
    [5, 16, 2, 5],
    [9, 32, 4, 3],
  ] as const) {
    it(`runs one kernel each way and equals tfjs's ops to float32 rounding, values and gradients (rows ${rows}, E ${E}, ${heads} heads, ${W} tokens)`, async () => {
      const q = tensor2d(rows, E, 2);
      const keys = Array.from({ length: W }, () => tensor2d(rows, E, 2));
      const values = Array.from({ length: W }, () => tensor2d(rows, E));
      const g = tensor2d(rows, E);
      let fused: Float32Array[] = [];
      const profile = await tf.profile(() => {
        fused = run(q, keys, values, heads, g);
      });
      expect(profile.kernelNames).toEqual(expect.arrayContaining(['L2oHistoryAttention', 'L2oHistoryAttentionBackward']));
      expect(profile.kernelNames).not.toContain('Transpose');
      process.env.L2O_KERNELS = 'tfjs';
      const plain = run(q, keys, values, heads, g);
      expect(worst(fused, plain)).toBeLessThan(2e-5);
      tf.dispose([q, ...keys, ...values, g]);
    });
  }

  // Head by head (2 heads), and four heads of 4 lanes at a time.
  it.each([
    [2, 8, 2, 3],
    [2, 16, 4, 3],
  ] as const)('equals the attention in float64, and its gradients central finite differences (rows %i, E %i, %i heads, %i tokens)', (rows, E, heads, W) => {
    const q = tensor2d(rows, E);
    const keys = Array.from({ length: W }, () => tensor2d(rows, E));
    const values = Array.from({ length: W }, () => tensor2d(rows, E));
    const gw = rng.normals(rows * E);
    const g = tf.tensor2d(gw, [rows, E]);
    const [value, ...grads] = run(q, keys, values, heads, g);
    const args = [q, ...keys, ...values].map((t) => Array.from(t.dataSync()));
    const f64 = (a: number[][]) => attentionF64(a[0]!, a.slice(1, 1 + W), a.slice(1 + W), rows, E, heads);
    f64(args).forEach((x, i) => expect(Math.abs(value![i]! - x)).toBeLessThan(1e-6));
    const loss = (a: number[][]) => f64(a).reduce((s, x, i) => s + x * gw[i]!, 0);
    const h = 1e-4;
    args.forEach((arg, t) => {
      for (let i = 0; i < arg.length; i++) {
        const at = (delta: number) => loss(args.map((a, u) => (u === t ? a.map((x, j) => (j === i ? x + delta : x)) : a)));
        expect(Math.abs((at(h) - at(-h)) / (2 * h) - grads[t]![i]!)).toBeLessThan(2e-5);
      }
    });
    tf.dispose([q, ...keys, ...values, g]);
  });

  it('is tfjs ops where a head is not a multiple of 4 lanes, and with L2O_KERNELS=tfjs', async () => {
    const q = tensor2d(4, 6);
    const keys = [tensor2d(4, 6), tensor2d(4, 6)];
    const profile = await tf.profile(() => tf.dispose(historyAttention(q, keys, keys, 2)));
    expect(profile.kernelNames).not.toContain('L2oHistoryAttention');
    process.env.L2O_KERNELS = 'tfjs';
    const q16 = tensor2d(4, 16);
    const keys16 = [tensor2d(4, 16)];
    const stock = await tf.profile(() => tf.dispose(historyAttention(q16, keys16, keys16, 4)));
    expect(stock.kernelNames).not.toContain('L2oHistoryAttention');
    tf.dispose([q, ...keys, q16, ...keys16]);
  });

  it('saturates without overflow on large scores, and leaves no tensor behind', () => {
    const q = tensor2d(6, 16, 300);
    const keys = [tensor2d(6, 16, 300), tensor2d(6, 16, 300)];
    const values = [tensor2d(6, 16), tensor2d(6, 16)];
    const g = tensor2d(6, 16);
    const before = tf.memory().numTensors;
    const fused = run(q, keys, values, 4, g);
    expect(tf.memory().numTensors).toBe(before);
    expect(fused.every((t) => t.every(Number.isFinite))).toBe(true);
    process.env.L2O_KERNELS = 'tfjs';
    expect(worst(fused.slice(0, 1), run(q, keys, values, 4, g).slice(0, 1))).toBeLessThan(1e-5);
    tf.dispose([q, ...keys, ...values, g]);
  });
});
