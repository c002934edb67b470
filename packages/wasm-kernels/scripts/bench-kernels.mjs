#!/usr/bin/env node
// Times the WASM kernels the models choose between (milliseconds per call, mean of 50 after 3
// warm-ups, one thread), at the papers' sizes: batch 64, LASSO 250×500. Measure on an idle machine.
// Usage: node packages/wasm-kernels/scripts/bench-kernels.mjs   (after npm run build)
import { selectEngine, tf } from '@l2o/core';
import { batchMatVec } from '@l2o/wasm-kernels';

await selectEngine('wasm');
const time = (name, f) => {
  for (let i = 0; i < 3; i++) tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  console.log(`${((performance.now() - t0) / 50).toFixed(3).padStart(8)} ms  ${name}`);
};
const a = tf.randomNormal([64, 500]);
const b = tf.randomNormal([64, 500]);
time('features: tf.stack([g, y], 2) of [64, 500]', () => tf.stack([a, b], 2));
time('features: stack on axis 0 + transpose (coordinateFeatures)', () => tf.tidy(() => tf.transpose(tf.stack([a, b], 0), [1, 2, 0])));
const A = tf.randomNormal([64, 250, 500]);
const x = tf.randomNormal([64, 500, 1]);
const r = tf.randomNormal([64, 250, 1]);
time('A x: batched matMul [64, 250, 500]·[64, 500, 1]', () => tf.matMul(A, x));
time('Aᵀ r: batched matMul, transposed A', () => tf.matMul(A, r, true, false));
time('A x: multiply + sum', () => tf.tidy(() => tf.sum(tf.mul(A, tf.reshape(x, [64, 1, 500])), 2)));
const x2 = tf.reshape(x, [64, 500]);
const r2 = tf.reshape(r, [64, 250]);
time('A x: batchMatVec (the platform kernel, src/matvec.wat)', () => batchMatVec(A, x2));
time('Aᵀ r: batchMatVec, transposed', () => batchMatVec(A, r2, true));
const h = tf.randomNormal([32000, 20]);
const w = tf.randomNormal([20, 20]);
const bias = tf.randomNormal([20]);
time('gate product: fused matMul [32000, 20]·[20, 20] + bias', () => tf.fused.matMul({ a: h, b: w, bias }));
time('sigmoid of [32000, 20]', () => tf.sigmoid(h));
time('multiply [32000, 20] ⊙ [32000, 20]', () => tf.mul(h, h));
