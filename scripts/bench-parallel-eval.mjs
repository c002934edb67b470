#!/usr/bin/env node
// Times the evaluation of a LASSO test set on 1 and on N worker threads (evaluateOnWorkers) and
// checks that both give the same curve. Indicative only on a shared machine. F* is a stand-in
// (half of F(0)), so F(x_k) is computed in float64 on the host as in a real run.
// Usage: node scripts/bench-parallel-eval.mjs [--count 256 --iterations 100 --batch 64 --m 250 --n 500 --optimizer fista --workers 2]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bootPlatform, drawInstances, evaluateOnWorkers, workerPlatformOf } from '@l2o/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '256' },
    iterations: { type: 'string', default: '100' },
    batch: { type: 'string', default: '64' },
    m: { type: 'string', default: '250' },
    n: { type: 'string', default: '500' },
    optimizer: { type: 'string', default: 'fista' },
    workers: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const platform = await bootPlatform({ backend: values.backend, searchFrom: [root] });
const problem = platform.registry.get('problem', 'lasso').create({});
const dataset = platform.registry.get('dataset', 'synthetic').create({});
const options = { preset: 'paper', m: Number(values.m), n: Number(values.n) };
const set = await drawInstances(
  dataset,
  problem,
  { dataset: { id: 'synthetic', options }, split: 'test', count: Number(values.count), seed: 0 },
  platform.datasetContext,
);
set.fStar = Float64Array.from({ length: set.count }, (_, i) => {
  let f = 0;
  for (let r = 0; r < set.m; r++) f += 0.5 * set.b[i * set.m + r] ** 2;
  return f / 2;
});
const optimizer = platform.registry.get('optimizer', values.optimizer).create({});
const run = async (workers) => {
  const started = performance.now();
  const curve = await evaluateOnWorkers(problem, optimizer, set, {
    iterations: Number(values.iterations),
    batchSize: Number(values.batch),
    workers,
    workerPlatform: workerPlatformOf(platform),
  });
  return { seconds: (performance.now() - started) / 1000, curve: JSON.stringify({ ...curve, seconds: 0 }) };
};
const workers = Number(values.workers);
const one = await run(1);
const many = await run(workers);
console.log(
  `${values.optimizer} on ${set.count} LASSO ${set.m}×${set.n} instances, ${values.iterations} iterations, batch ${values.batch}, engine ${platform.engine.chosen}:`,
);
console.log(
  `  1 thread: ${one.seconds.toFixed(2)} s; ${workers} workers: ${many.seconds.toFixed(2)} s (start-up included); ratio ${(one.seconds / many.seconds).toFixed(2)}×`,
);
console.log(`  same curve: ${one.curve === many.curve}`);
