import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = new Rng(7).normals(1000);
    const b = new Rng(7).normals(1000);
    const c = new Rng(8).normals(1000);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('gives uniforms in [0,1) with the right moments', () => {
    const r = new Rng(1);
    let sum = 0;
    let sq = 0;
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      sq += u * u;
    }
    // Standard errors: mean 1/sqrt(12 N) ≈ 6.5e-4, so 5e-3 is > 7 sigma.
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(5e-3);
    expect(Math.abs(sq / N - 1 / 3)).toBeLessThan(5e-3);
  });

  it('gives standard normals', () => {
    const x = new Rng(2).normals(200_000);
    let sum = 0;
    let sq = 0;
    let q4 = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
      q4 += v ** 4;
    }
    const N = x.length;
    expect(Math.abs(sum / N)).toBeLessThan(1e-2);
    expect(Math.abs(sq / N - 1)).toBeLessThan(2e-2);
    expect(Math.abs(q4 / N - 3)).toBeLessThan(0.1);
  });

  it('samples distinct indices uniformly', () => {
    const r = new Rng(3);
    const counts = new Array(10).fill(0);
    for (let t = 0; t < 20_000; t++) {
      const s = r.sample(10, 3);
      expect(new Set(s).size).toBe(3);
      for (const i of s) counts[i]++;
    }
    for (const c of counts) expect(Math.abs(c - 6000)).toBeLessThan(400);
  });

  it('resumes exactly from a saved state', () => {
    const r = new Rng(5);
    r.normals(11); // leaves a spare normal cached
    const saved = r.getState();
    const rest = r.normals(100);
    const resumed = Rng.fromState(saved).normals(100);
    expect(Array.from(resumed)).toEqual(Array.from(rest));
  });

  it('derives independent labelled streams', () => {
    const a = Rng.stream(1, 'train').normals(50);
    const b = Rng.stream(1, 'test').normals(50);
    const a2 = Rng.stream(1, 'train').normals(50);
    expect(Array.from(a)).toEqual(Array.from(a2));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Array.from(new Rng(1).fork('x').normals(5))).toEqual(Array.from(new Rng(1).fork('x').normals(5)));
  });
});
