/**
 * Orthogonal Matching Pursuit (OMP), in the Gram form of Batch-OMP (Rubinstein, Zibulevsky and
 * Elad, 2008): the correlations with the residual are updated from G = DᵀD and the least-squares
 * fit on the selected atoms is solved by an updated Cholesky factor, all in float64.
 *
 * Conventions: a dictionary D is row-major [m, n] (m = signal length, n = atoms; column j is
 * atom j), signals are row-major [count, m], codes are row-major [count, n].
 */

export interface OmpOptions {
  /** Largest number of atoms per signal. */
  sparsity: number;
  /**
   * Stop early once ‖residual‖ ≤ tolerance·‖signal‖ (default 1e-10: exactly sparse signals
   * stop at their own support).
   */
  tolerance?: number;
}

export interface SparseCode {
  /** Atoms selected, in the order they were selected. */
  indices: number[];
  /** Coefficient of each selected atom (aligned with `indices`). */
  values: Float64Array;
  /** ‖x − D γ‖₂. */
  residualNorm: number;
}

/** G = DᵀD, [n, n] row-major. */
export function gramMatrix(D: ArrayLike<number>, m: number, n: number): Float64Array {
  const G = new Float64Array(n * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let a = 0; a < n; a++) {
      const da = D[row + a]!;
      if (da === 0) continue;
      for (let c = a; c < n; c++) G[a * n + c]! += da * D[row + c]!;
    }
  }
  for (let a = 0; a < n; a++) for (let c = 0; c < a; c++) G[a * n + c] = G[c * n + a]!;
  return G;
}

/** Sparse coder for one dictionary: the Gram matrix is computed once for many signals. */
export class OmpCoder {
  readonly G: Float64Array;
  private readonly alpha0: Float64Array;
  private readonly alpha: Float64Array;

  constructor(
    readonly D: ArrayLike<number>,
    readonly m: number,
    readonly n: number,
  ) {
    if (D.length !== m * n) throw new RangeError(`dictionary has ${D.length} values, expected ${m}×${n}`);
    this.G = gramMatrix(D, m, n);
    this.alpha0 = new Float64Array(n);
    this.alpha = new Float64Array(n);
  }

  /** Codes the signal x[offset .. offset+m). */
  code(x: ArrayLike<number>, options: OmpOptions, offset = 0): SparseCode {
    const { D, G, m, n, alpha0, alpha } = this;
    const K = Math.min(Math.max(0, Math.floor(options.sparsity)), n, m);
    const tol = options.tolerance ?? 1e-10;
    let xx = 0;
    alpha0.fill(0);
    for (let i = 0; i < m; i++) {
      const xi = x[offset + i]!;
      if (xi === 0) continue;
      xx += xi * xi;
      const row = i * n;
      for (let j = 0; j < n; j++) alpha0[j]! += D[row + j]! * xi;
    }
    alpha.set(alpha0);
    const indices: number[] = [];
    const selected = new Uint8Array(n);
    // L: lower-triangular Cholesky factor of G[I, I], stored row-major K×K.
    const L = new Float64Array(K * K);
    let gamma = new Float64Array(0);
    let err = xx;
    const stop = tol * tol * xx;
    const w = new Float64Array(K);
    while (indices.length < K && err > stop) {
      let best = -1;
      let bestAbs = 0;
      for (let j = 0; j < n; j++) {
        if (selected[j]) continue;
        const gjj = G[j * n + j]!;
        if (gjj <= 0) continue;
        const a = Math.abs(alpha[j]!) / Math.sqrt(gjj);
        if (a > bestAbs) {
          bestAbs = a;
          best = j;
        }
      }
      if (best < 0 || bestAbs <= 1e-14 * Math.sqrt(xx)) break;
      const k = indices.length;
      // New row of L: solve L[0:k,0:k] w = G[I, best]; diagonal sqrt(G_bb − wᵀw).
      let ww = 0;
      for (let r = 0; r < k; r++) {
        let v = G[indices[r]! * n + best]!;
        for (let c = 0; c < r; c++) v -= L[r * K + c]! * w[c]!;
        v /= L[r * K + r]!;
        w[r] = v;
        ww += v * v;
      }
      const gbb = G[best * n + best]!;
      const d2 = gbb - ww;
      if (d2 <= 1e-12 * gbb) {
        // The atom lies in the span of the selected ones: it cannot reduce the residual.
        selected[best] = 1;
        continue;
      }
      for (let c = 0; c < k; c++) L[k * K + c] = w[c]!;
      L[k * K + k] = Math.sqrt(d2);
      indices.push(best);
      selected[best] = 1;
      // γ = (L Lᵀ)⁻¹ α0[I].
      const size = k + 1;
      const y = new Float64Array(size);
      for (let r = 0; r < size; r++) {
        let v = alpha0[indices[r]!]!;
        for (let c = 0; c < r; c++) v -= L[r * K + c]! * y[c]!;
        y[r] = v / L[r * K + r]!;
      }
      gamma = new Float64Array(size);
      for (let r = size - 1; r >= 0; r--) {
        let v = y[r]!;
        for (let c = r + 1; c < size; c++) v -= L[c * K + r]! * gamma[c]!;
        gamma[r] = v / L[r * K + r]!;
      }
      // α = α0 − G[:, I] γ ; ‖r‖² = ‖x‖² − γᵀ α0[I].
      alpha.set(alpha0);
      let fit = 0;
      for (let r = 0; r < size; r++) {
        const g = gamma[r]!;
        const col = indices[r]!;
        fit += g * alpha0[col]!;
        const Grow = col * n; // G is symmetric: row col = column col.
        for (let j = 0; j < n; j++) alpha[j]! -= G[Grow + j]! * g;
      }
      err = Math.max(0, xx - fit);
    }
    // The exact residual norm (the running one loses digits when the fit is near perfect).
    let rr = 0;
    for (let i = 0; i < m; i++) {
      let v = x[offset + i]!;
      const row = i * n;
      for (let r = 0; r < indices.length; r++) v -= D[row + indices[r]!]! * gamma[r]!;
      rr += v * v;
    }
    return { indices, values: gamma, residualNorm: Math.sqrt(rr) };
  }

  /** Codes `count` signals (row-major [count, m]) into dense codes [count, n]. */
  codeAll(X: ArrayLike<number>, count: number, options: OmpOptions): Float64Array {
    const codes = new Float64Array(count * this.n);
    for (let s = 0; s < count; s++) {
      const { indices, values } = this.code(X, options, s * this.m);
      for (let r = 0; r < indices.length; r++) codes[s * this.n + indices[r]!] = values[r]!;
    }
    return codes;
  }
}

/** OMP of one signal x ∈ R^m over the dictionary D ([m, n] row-major). */
export function omp(D: ArrayLike<number>, m: number, n: number, x: ArrayLike<number>, options: OmpOptions): SparseCode {
  return new OmpCoder(D, m, n).code(x, options);
}

/** OMP of `count` signals (row-major [count, m]); dense codes [count, n]. */
export function ompBatch(D: ArrayLike<number>, m: number, n: number, X: ArrayLike<number>, count: number, options: OmpOptions): Float64Array {
  return new OmpCoder(D, m, n).codeAll(X, count, options);
}

/** ‖X − codes·Dᵀ‖_F / sqrt(count·m): the root-mean-square error of a representation. */
export function representationRmse(D: ArrayLike<number>, m: number, n: number, X: ArrayLike<number>, count: number, codes: ArrayLike<number>): number {
  let sq = 0;
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < m; i++) {
      let v = X[s * m + i]!;
      for (let j = 0; j < n; j++) {
        const c = codes[s * n + j]!;
        if (c !== 0) v -= D[i * n + j]! * c;
      }
      sq += v * v;
    }
  }
  return Math.sqrt(sq / (count * m));
}
