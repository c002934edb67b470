#!/usr/bin/env node
// Times coordinateAttention at gru-mha's paper size (q, k, v [64, 500, 16], 4 heads of 4 lanes):
// milliseconds per forward call and per forward + backward (tf.grads of Σ out ⊙ g), one thread.
// With --old <file> (an earlier build of rnn-gates.wat: its .wasm, or an earlier
// src/wasm-modules.generated.ts, e.g. from `git show <rev>:packages/wasm-kernels/src/wasm-modules.generated.ts`),
// its coordinateAttention4 kernels run on the same heap,
// through the same tfjs calls, alternating with the current ones round after round (a busy machine
// drifts: only a comparison within one process means much); the medians are printed.
// Usage: node packages/wasm-kernels/scripts/bench-coordinate-attention.mjs [--old file.wasm] [--rounds 7] [--size N,n,E,heads]
//   (after npm run build -w @l2o/wasm-kernels)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { selectEngine, tf } from '@l2o/core';
import { coordinateAttention } from '@l2o/wasm-kernels';

const { values } = parseArgs({
  options: { old: { type: 'string' }, rounds: { type: 'string', default: '7' }, size: { type: 'string', default: '64,500,16,4' } },
});
const [N, n, E, heads] = values.size.split(',').map(Number);
const rounds = Number(values.rounds);
if (values.old && E !== 4 * heads) {
  console.error(`--old compares the kernels for heads of 4 lanes: --size needs E = 4·heads (it has E ${E}, ${heads} heads).`);
  process.exit(2);
}
await selectEngine('wasm');

const FORWARD = 'L2oCoordinateAttention';
const BACKWARD = 'L2oCoordinateAttentionBackward';
let useOld = false;
if (values.old) {
  // The old kernels behind the same kernel names, chosen by `useOld`: their calls as
  // coordinate-attention.ts made them when they were built (scratch sizes included).
  const backend = tf.backend();
  const { Instance, Module } = globalThis.WebAssembly;
  const file = readFileSync(values.old);
  const bytes = values.old.endsWith('.ts')
    ? Uint8Array.from(/rnnGatesWasm = new Uint8Array\(\[([\d,]*)\]\)/.exec(file.toString())[1].split(',').map(Number))
    : file;
  const old = new Instance(new Module(bytes), { env: { memory: backend.wasm.asm.memory } }).exports;
  const at = (t) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const scratch = (bytes) => {
    const t = backend.makeOutput([Math.ceil(bytes / 4)], 'float32');
    return [at(t), () => backend.disposeData(t.dataId)];
  };
  const oldKernels = {
    [FORWARD]: ({ inputs: { q, k, v }, attrs }) => {
      const [N, nq] = q.shape;
      const nk = k.shape[1];
      const d = q.shape[2] / attrs.heads;
      const out = backend.makeOutput(q.shape, 'float32');
      const stats = backend.makeOutput([N, Math.ceil(attrs.heads / 4), nq, 2, 4], 'float32');
      const [s, free] = scratch((2 * nq + 2 * nk) * d * 16 + 1024);
      old.coordinateAttention4(at(q), at(k), at(v), at(out), at(stats), s, N, nq, nk, attrs.heads, 1 / Math.sqrt(d));
      free();
      return [out, stats];
    },
    [BACKWARD]: ({ inputs: { dout, q, k, v, out, stats }, attrs }) => {
      const [N, nq] = q.shape;
      const nk = k.shape[1];
      const d = q.shape[2] / attrs.heads;
      const [dq, dk, dv] = [q, k, v].map((t) => backend.makeOutput(t.shape, 'float32'));
      // As much as either layout needs (the old build's, or the current one's, when timing a variant of it).
      const [s, free] = scratch(Math.max((3 * nq + 4 * nk) * d * 16 + nq * 16, 240 * nq + 256 * nk));
      old.coordinateAttentionBackward4(at(dout), at(q), at(k), at(v), at(out), at(stats), at(dq), at(dk), at(dv), s, N, nq, nk, attrs.heads, 1 / Math.sqrt(d));
      free();
      return [dq, dk, dv];
    },
  };
  for (const name of [FORWARD, BACKWARD]) {
    const current = tf.getKernel(name, 'wasm');
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...current, kernelFunc: (args) => (useOld ? oldKernels[name](args) : current.kernelFunc(args)) });
  }
}

const q = tf.randomNormal([N, n, E]);
const k = tf.randomNormal([N, n, E]);
const v = tf.randomNormal([N, n, E]);
const g = tf.randomNormal([N, n, E]);
const forward = () => coordinateAttention(q, k, v, heads);
const both = () => tf.grads((a, b, c) => tf.sum(tf.mul(g, coordinateAttention(a, b, c, heads))))([q, k, v]);

/** Milliseconds per call of f: the mean of `calls` after one warm-up. */
const time = (f, calls) => {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) tf.dispose(f());
  return (performance.now() - t0) / calls;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (values.old) {
  // The two agree to float32 rounding (a check that the comparison times the same computation).
  const run = (old) => {
    useOld = old;
    return tf.tidy(() => [forward(), ...both()].map((t) => t.dataSync()));
  };
  const [a, b] = [run(true), run(false)];
  const worst = Math.max(...a.map((x, i) => x.reduce((m, y, j) => Math.max(m, Math.abs(y - b[i][j])), 0) / x.reduce((m, y) => Math.max(m, Math.abs(y)), 1e-3)));
  console.log(`old and new differ by at most ${worst.toExponential(2)} (relative to each output's largest magnitude)`);
}
const variants = values.old ? [true, false] : [false];
const results = new Map(variants.map((old) => [old, { forward: [], both: [] }]));
for (let r = 0; r < rounds; r++) {
  for (const old of variants) {
    useOld = old;
    const res = results.get(old);
    res.forward.push(time(forward, 5));
    res.both.push(time(both, 3));
  }
  console.log(
    `round ${r + 1}: ${variants.map((old) => `${old ? 'old' : 'new'} forward ${results.get(old).forward[r].toFixed(1)} ms, forward+backward ${results.get(old).both[r].toFixed(1)} ms`).join('; ')}`,
  );
}
console.log(`[${N}, ${n}, ${E}], ${heads} heads, medians of ${rounds} rounds:`);
for (const old of variants) {
  const res = results.get(old);
  console.log(`  ${old ? 'old' : 'new'}: forward ${median(res.forward).toFixed(2)} ms, forward+backward ${median(res.both).toFixed(2)} ms`);
}
if (values.old) {
  const [o, c] = [results.get(true), results.get(false)];
  console.log(`  speed-up: forward ${(median(o.forward) / median(c.forward)).toFixed(2)}×, forward+backward ${(median(o.both) / median(c.both)).toFixed(2)}×`);
}
