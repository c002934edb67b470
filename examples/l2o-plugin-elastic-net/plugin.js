// The elastic net, a composite problem the platform does not have, as a third-party plugin:
//   F(x) = ½‖Ax − b‖² + λ₁‖x‖₁ + (λ₂/2)‖x‖²,   f = ½‖Ax − b‖²,   r = λ₁‖·‖₁ + (λ₂/2)‖·‖².
// λ₁ is the instance set's λ (a dataset option), λ₂ this problem's option `lambda2`. The ridge term
// sits in r, so ∇f and L = ‖A‖₂² are LASSO's and the prox stays closed-form: soft-threshold by
// step·λ₁, then shrink by 1/(1 + step·λ₂). Its instances are the synthetic LASSO distribution's.
import { L2oError, checkServes, numberOption, resolveOptions, tf } from '@l2o/core';
import { MIN_LIPSCHITZ, applyA, applyAt, l1Composite64, l1KktResidual, leastSquares64, softThreshold, squaredSpectralNorm } from '@l2o/problems';
import { generateSynthetic, syntheticOptionFields, syntheticSettings } from '@l2o/datasets';

export const PROBLEM_ID = 'elastic-net';
export const DATASET_ID = 'elastic-net-synthetic';

export const problemOptions = {
  lambda2: numberOption(0.1, 'λ₂, the weight of the ridge term (λ₂/2)‖x‖² (λ₁ is the instances’ λ)', { min: 0, acceptStrings: true }),
};

/** Shape and value checks before any tensor is made: one line naming what is wrong. */
function validate(set) {
  const where = `${PROBLEM_ID} instances`;
  if (set.problem !== PROBLEM_ID) throw new L2oError(`The instances are for '${set.problem}', not '${PROBLEM_ID}'.`);
  for (const key of ['count', 'm', 'n']) {
    if (!Number.isInteger(set[key]) || set[key] <= 0) throw new L2oError(`${where}: ${key} must be a positive integer, got ${set[key]}.`);
  }
  if (!(set.lambda >= 0) || !Number.isFinite(set.lambda)) throw new L2oError(`${where}: λ₁ must be a finite number ≥ 0, got ${set.lambda}.`);
  const aSize = (set.sharedA ? 1 : set.count) * set.m * set.n;
  if (set.A.length !== aSize) throw new L2oError(`${where}: A has ${set.A.length} values, expected ${aSize}.`);
  if (set.b.length !== set.count * set.m) throw new L2oError(`${where}: b has ${set.b.length} values, expected ${set.count * set.m}.`);
  if (!set.A.every(Number.isFinite) || !set.b.every(Number.isFinite)) throw new L2oError(`${where}: A or b holds a non-finite value.`);
}

/** ½‖Ax − b‖² + λ₁‖x‖₁ + (λ₂/2)‖x‖² of instance i, in float64 on the host. */
function objective64(set, i, x, lambda2) {
  const { m, n, A, b } = set;
  const base = set.sharedA ? 0 : i * m * n;
  let fit = 0;
  for (let r = 0; r < m; r++) {
    let z = -b[i * m + r];
    for (let j = 0; j < n; j++) z += A[base + r * n + j] * x[j];
    fit += z * z;
  }
  let l1 = 0;
  let l2 = 0;
  for (let j = 0; j < n; j++) {
    l1 += Math.abs(x[j]);
    l2 += x[j] * x[j];
  }
  return 0.5 * fit + set.lambda * l1 + 0.5 * lambda2 * l2;
}

/**
 * The float64 form. The elastic net is a LASSO on the augmented data [A; √λ₂ I], [b; 0], so the
 * platform's LASSO solver (FISTA with restarts, then Newton on the support) solves it; the augmented
 * matrix is held in float64 (√λ₂ rounded to float32 would move F*) and built once per solve.
 */
function elasticNet64(lambda2) {
  const lasso64 = l1Composite64(leastSquares64);
  return {
    objective: (set, i, x) => objective64(set, i, x, lambda2),
    solve(set, i, start, options) {
      const { m, n } = set;
      const base = set.sharedA ? 0 : i * m * n;
      const A = new Float64Array((m + n) * n);
      for (let k = 0; k < m * n; k++) A[k] = set.A[base + k];
      for (let j = 0; j < n; j++) A[(m + j) * n + j] = Math.sqrt(lambda2);
      const b = new Float64Array(m + n);
      for (let r = 0; r < m; r++) b[r] = set.b[i * m + r];
      const augmented = { problem: 'lasso', count: 1, m: m + n, n, lambda: set.lambda, sharedA: true, A, b, meta: {} };
      const solution = lasso64.solve(augmented, 0, start, options);
      return { ...solution, f: objective64(set, i, solution.x, lambda2) };
    },
  };
}

export class ElasticNet {
  id = PROBLEM_ID;
  /** FISTA converges at O(1/k²) on every smooth f plus a prox-friendly r: the reference for F*. */
  referenceSolver = { id: 'fista' };
  defaultDataset = DATASET_ID;

  constructor(options = {}) {
    this.options = resolveOptions({ kind: 'problem', id: PROBLEM_ID }, problemOptions, options);
    this.float64 = elasticNet64(this.options.lambda2);
  }

  validate(set) {
    validate(set);
  }

  toBatch(set) {
    this.validate(set);
    const A = set.sharedA ? tf.tensor2d(set.A, [set.m, set.n]) : tf.tensor3d(set.A, [set.count, set.m, set.n]);
    const b = tf.tensor2d(set.b, [set.count, set.m]);
    const normSq = squaredSpectralNorm(A, set.count);
    const L = tf.tidy(() => tf.maximum(normSq, MIN_LIPSCHITZ));
    normSq.dispose();
    return { problem: this.id, size: set.count, m: set.m, n: set.n, lambda: set.lambda, sharedA: set.sharedA, A, b, L };
  }

  disposeBatch(batch) {
    tf.dispose([batch.A, batch.b, batch.L]);
  }

  f(batch, x) {
    return tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(tf.sub(applyA(batch, x), batch.b)), 1)));
  }

  grad(batch, x) {
    return tf.tidy(() => applyAt(batch, tf.sub(applyA(batch, x), batch.b)));
  }

  /** argmin_u λ₁‖u‖₁ + (λ₂/2)‖u‖² + ‖u − v‖²/(2·step), coordinate-wise. */
  prox(batch, v, step) {
    return tf.tidy(() => tf.div(softThreshold(v, batch.lambda, step), tf.add(1, tf.mul(step, this.options.lambda2))));
  }

  objective(batch, x) {
    const { lambda2 } = this.options;
    return tf.tidy(() => tf.addN([this.f(batch, x), tf.mul(batch.lambda, tf.sum(tf.abs(x), 1)), tf.mul(0.5 * lambda2, tf.sum(tf.square(x), 1))]));
  }

  subgradient(batch, x) {
    return tf.tidy(() => tf.addN([this.grad(batch, x), tf.mul(this.options.lambda2, x), tf.mul(batch.lambda, tf.sign(x))]));
  }

  /** The ℓ1 KKT conditions with the smooth part's gradient ∇f(x) + λ₂x. */
  kktResidual(batch, x) {
    return tf.tidy(() => l1KktResidual(tf.add(this.grad(batch, x), tf.mul(this.options.lambda2, x)), x, batch.lambda));
  }
}

/** The synthetic LASSO distribution (A with unit columns, s-sparse x*, b = Ax*), as elastic-net instances. */
export function createDataset(createOptions = {}) {
  const owner = { kind: 'dataset', id: DATASET_ID };
  resolveOptions(owner, syntheticOptionFields, createOptions);
  const dataset = {
    id: DATASET_ID,
    serves: [PROBLEM_ID],
    fixed: false,
    async instances(request) {
      checkServes(dataset, request.problem);
      // Resolved here first, so that a wrong option is named as this dataset's.
      const options = resolveOptions(owner, syntheticOptionFields, { ...createOptions, ...request.options });
      const set = generateSynthetic(syntheticSettings('lasso', options), request.count, request.rng);
      return { ...set, problem: PROBLEM_ID, meta: { ...set.meta, dataset: DATASET_ID } };
    },
    async describe() {
      return {
        id: DATASET_ID,
        serves: [PROBLEM_ID],
        description: 'the synthetic LASSO distribution, as elastic-net instances',
        needsFiles: false,
        present: true,
      };
    },
  };
  return dataset;
}

export function register(registrar) {
  registrar.problem({
    id: PROBLEM_ID,
    description: 'elastic net: ½‖Ax − b‖² + λ₁‖x‖₁ + (λ₂/2)‖x‖²',
    options: problemOptions,
    create: (options) => new ElasticNet(options),
  });
  registrar.dataset({
    id: DATASET_ID,
    description: 'synthetic LASSO instances (presets paper and toy) for the elastic net',
    serves: [PROBLEM_ID],
    options: syntheticOptionFields,
    create: (options) => createDataset(options),
  });
}
