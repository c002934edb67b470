import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '@l2o/core';
import { Lasso, LogisticL1 } from '@l2o/problems';
import { generateSynthetic, syntheticSettings } from './synthetic.js';

// scikit-learn as the independent solver (Debian: apt-get install -y python3-sklearn; CI installs it).
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
const sklearn = probe.status === 0 ? probe.stdout.trim() : null;
if (!sklearn && process.env.L2O_REQUIRE_SKLEARN) throw new Error(`L2O_REQUIRE_SKLEARN is set but ${PYTHON} cannot import sklearn: ${probe.stderr}`);
if (!sklearn) console.warn(`float64 reference against scikit-learn skipped: ${PYTHON} cannot import sklearn (apt-get install -y python3-sklearn)`);

/** F* of every instance by scikit-learn in float64, from the same float32 data. */
function sklearnFStar(problem: 'lasso' | 'logistic-l1', set: ReturnType<typeof generateSynthetic>): number[] {
  const script = `
import json, sys, warnings
import numpy as np
from sklearn.linear_model import Lasso, LogisticRegression
d = json.load(sys.stdin)
m, n, lam = d['m'], d['n'], d['lambda']
A = np.array(d['A'], dtype=np.float32).astype(np.float64).reshape(-1, m, n)
b = np.array(d['b'], dtype=np.float32).astype(np.float64).reshape(-1, m)
out = []
warnings.simplefilter('ignore')
for i in range(b.shape[0]):
    if d['problem'] == 'lasso':
        # sklearn: (1/(2m))‖y − Xw‖² + α‖w‖₁, i.e. F/m with α = λ/m.
        w = Lasso(alpha=lam / m, fit_intercept=False, tol=1e-15, max_iter=1000000).fit(A[i], b[i]).coef_
        r = A[i] @ w - b[i]
        out.append(0.5 * r @ r + lam * np.abs(w).sum())
    else:
        # sklearn: ‖w‖₁ + C Σ log-loss, i.e. F·m·C with C = 1/(mλ).
        w = LogisticRegression(penalty='l1', C=1.0 / (m * lam), fit_intercept=False, solver='saga', tol=1e-15, max_iter=100000).fit(A[i], b[i]).coef_[0]
        z = A[i] @ w
        out.append(np.mean(np.maximum(z, 0) - b[i] * z + np.log1p(np.exp(-np.abs(z)))) + lam * np.abs(w).sum())
print(json.dumps(out))
`;
  const input = JSON.stringify({ problem, m: set.m, n: set.n, lambda: set.lambda, A: Array.from(set.A), b: Array.from(set.b) });
  const r = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as number[];
}

describe.skipIf(!sklearn)(`float64 F* against scikit-learn ${sklearn ?? ''}`, () => {
  it('the toy LASSO test set (20×40, λ = 0.1): every F* agrees to 1e-9 relative', () => {
    const set = generateSynthetic(syntheticSettings('lasso', { preset: 'toy' }), 64, Rng.stream(0, 'test'));
    const host = new Lasso().float64;
    const ours = Array.from({ length: set.count }, (_, i) => host.solve(set, i, new Float64Array(set.n), { tolerance: 1e-12, maxIterations: 50_000 }));
    const theirs = sklearnFStar('lasso', set);
    ours.forEach((s, i) => {
      expect(s.kkt).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(s.f - theirs[i]!) / Math.abs(theirs[i]!)).toBeLessThan(1e-9);
      // Ours is the minimum: never above the independent solver's value by more than rounding.
      expect(s.f).toBeLessThanOrEqual(theirs[i]! * (1 + 1e-12));
    });
  });

  it('logistic-l1 (toy, 100×20): every F* agrees to 1e-7 relative (saga stops earlier than our KKT tolerance)', () => {
    const set = generateSynthetic(syntheticSettings('logistic-l1', { preset: 'toy' }), 8, Rng.stream(0, 'test'));
    const host = new LogisticL1().float64;
    const ours = Array.from({ length: set.count }, (_, i) => host.solve(set, i, new Float64Array(set.n), { tolerance: 1e-12, maxIterations: 50_000 }));
    const theirs = sklearnFStar('logistic-l1', set);
    ours.forEach((s, i) => {
      expect(s.kkt).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(s.f - theirs[i]!) / Math.abs(theirs[i]!)).toBeLessThan(1e-7);
      expect(s.f).toBeLessThanOrEqual(theirs[i]! * (1 + 1e-12));
    });
  });
});
