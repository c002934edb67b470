import type { Rng } from '@l2o/core';
import { OmpCoder } from './omp.js';

export interface KsvdOptions {
  atoms: number;
  /** Non-zeros per signal in the OMP sparse-coding stage. */
  sparsity: number;
  iterations: number;
}

export interface KsvdResult {
  /** Dictionary [m, atoms] row-major, unit-norm columns. */
  D: Float64Array;
  /** Root-mean-square representation error after each iteration. */
  rmse: number[];
}

function normaliseColumn(D: Float64Array, m: number, n: number, j: number): void {
  let norm = 0;
  for (let i = 0; i < m; i++) norm += D[i * n + j]! ** 2;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < m; i++) D[i * n + j]! /= norm;
}

/**
 * Approximate K-SVD (Rubinstein, Zibulevsky and Elad 2008): alternate OMP sparse coding with,
 * for each atom, one power-iteration step on the residual of the signals that use it
 * (d ← E g / ‖E g‖, g ← Eᵀ d). Signals X are row-major [count, m]. The dictionary starts from
 * `atoms` distinct signals drawn by `rng`, normalised; an atom that no signal uses is replaced
 * by the worst-represented signal.
 */
export function ksvd(X: Float64Array, count: number, m: number, options: KsvdOptions, rng: Rng): KsvdResult {
  const K = options.atoms;
  const D = new Float64Array(m * K);
  const start = rng.sample(count, Math.min(K, count));
  for (let j = 0; j < K; j++) {
    const s = start[j % start.length]!;
    for (let i = 0; i < m; i++) D[i * K + j] = X[s * m + i]! + (j >= start.length ? 1e-3 * rng.normal() : 0);
    normaliseColumn(D, m, K, j);
  }
  const rmse: number[] = [];
  const residual = new Float64Array(m);
  for (let it = 0; it < options.iterations; it++) {
    const codes = new OmpCoder(D, m, K).codeAll(X, count, { sparsity: options.sparsity });
    // Users of each atom, from the sparse codes.
    const users: number[][] = Array.from({ length: K }, () => []);
    for (let s = 0; s < count; s++) for (let j = 0; j < K; j++) if (codes[s * K + j] !== 0) users[j]!.push(s);
    for (let j = 0; j < K; j++) {
      const I = users[j]!;
      if (I.length === 0) {
        // Replace an unused atom by the signal with the largest residual.
        let worst = 0;
        let worstErr = -1;
        for (let s = 0; s < count; s++) {
          let err = 0;
          for (let i = 0; i < m; i++) {
            let v = X[s * m + i]!;
            for (let a = 0; a < K; a++) if (codes[s * K + a] !== 0) v -= D[i * K + a]! * codes[s * K + a]!;
            err += v * v;
          }
          if (err > worstErr) [worst, worstErr] = [s, err];
        }
        for (let i = 0; i < m; i++) D[i * K + j] = X[worst * m + i]!;
        normaliseColumn(D, m, K, j);
        continue;
      }
      // d = E g with E the residual of the users without atom j, g their coefficients on j.
      const d = new Float64Array(m);
      const residuals: Float64Array[] = [];
      for (const s of I) {
        for (let i = 0; i < m; i++) {
          let v = X[s * m + i]!;
          for (let a = 0; a < K; a++) if (a !== j && codes[s * K + a] !== 0) v -= D[i * K + a]! * codes[s * K + a]!;
          residual[i] = v;
        }
        residuals.push(Float64Array.from(residual));
        const g = codes[s * K + j]!;
        for (let i = 0; i < m; i++) d[i]! += residual[i]! * g;
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += d[i]! ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      for (let i = 0; i < m; i++) D[i * K + j] = d[i]! / norm;
      residuals.forEach((r, u) => {
        let g = 0;
        for (let i = 0; i < m; i++) g += r[i]! * D[i * K + j]!;
        codes[I[u]! * K + j] = g;
      });
    }
    // Error of the updated dictionary with the updated codes.
    let sq = 0;
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < m; i++) {
        let v = X[s * m + i]!;
        for (let a = 0; a < K; a++) if (codes[s * K + a] !== 0) v -= D[i * K + a]! * codes[s * K + a]!;
        sq += v * v;
      }
    }
    rmse.push(Math.sqrt(sq / (count * m)));
  }
  return { D, rmse };
}

/** The orthonormal 2-D DCT-II basis of size×size patches as a dictionary [size², size²]. */
export function dctDictionary(size: number): Float64Array {
  const m = size * size;
  const D = new Float64Array(m * m);
  let atom = 0;
  for (let u = 0; u < size; u++) {
    for (let v = 0; v < size; v++) {
      const cu = u === 0 ? Math.sqrt(1 / size) : Math.sqrt(2 / size);
      const cv = v === 0 ? Math.sqrt(1 / size) : Math.sqrt(2 / size);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          D[(y * size + x) * m + atom] = cu * cv * Math.cos(((2 * y + 1) * u * Math.PI) / (2 * size)) * Math.cos(((2 * x + 1) * v * Math.PI) / (2 * size));
        }
      }
      atom++;
    }
  }
  return D;
}
