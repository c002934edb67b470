#!/usr/bin/env node
// Runs `l2o bench` and ../shared/bench/torch_reference.py on the same workloads, in the same run
// on the same machine, and prints our time, PyTorch's, and the ratio (ours / PyTorch: below 1 is
// faster). Usage: node scripts/bench-compare.mjs [--m 250 --n 500 --batch 64 --unroll 20
// --repeats 3 --torch-threads 0 --micro-batch auto --workers 1 --out bench.json --only lstm,gru-mha-linear]
import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    m: { type: 'string', default: '250' },
    n: { type: 'string', default: '500' },
    batch: { type: 'string', default: '64' },
    unroll: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '3' },
    'torch-threads': { type: 'string', default: '0' },
    'micro-batch': { type: 'string', default: 'auto' },
    workers: { type: 'string', default: '1' },
    only: { type: 'string' },
    out: { type: 'string' },
    // Other work on the machine makes both sides slower by different amounts: refuse to write a
    // table (--out) when the 1-minute load average says another process was busy.
    'max-load': { type: 'string', default: '0.5' },
    torch: { type: 'string', default: path.resolve(root, '../shared/bench/torch_reference.py') },
  },
});

// Micro-batch: `--micro-batch auto` (the default) leaves it to `l2o bench`, which picks the largest
// that fits the engine's memory, as a user's training does (each row prints the one it chose).
const CASES = [
  { id: 'lstm', model: 'lstm', torch: ['--model', 'lstm'] },
  { id: 'gru', model: 'gru', torch: ['--model', 'gru'] },
  {
    id: 'gru-mha-coordinates',
    model: 'gru-mha',
    options: ['-o', 'gru-mha.attention.axis=coordinates'],
    torch: ['--model', 'gru-mha', '--axis', 'coordinates'],
  },
  { id: 'gru-mha-history', model: 'gru-mha', options: ['-o', 'gru-mha.attention.axis=history'], torch: ['--model', 'gru-mha', '--axis', 'history'] },
  // The linear-cost kernel has no counterpart in torch_reference.py.
  { id: 'gru-mha-linear', model: 'gru-mha', options: ['-o', 'gru-mha.attention.kernel=linear'], torch: null },
].filter((c) => !values.only || values.only.split(',').some((o) => o === c.id || o === c.model));

const size = ['--m', values.m, '--n', values.n, '--batch', values.batch, '--unroll', values.unroll, '--repeats', values.repeats];
// Equal cores: OpenBLAS (Debian's libopenblas0-pthread) keeps a thread pool of its own beside
// PyTorch's intra-op threads; cap it at PyTorch's thread count (1 unless --torch-threads).
const torchThreads = Number(values['torch-threads']) || 1;
// PyTorch's peak RSS: GNU time's maximum resident set size of the process (its re-executed image
// included: the kernel keeps the high-water mark across exec). Ours is the bench's own.
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const RSS_MARK = 'l2o-bench-maxrss-kb=';
function run(cmd, args, env = {}, { rss = false } = {}) {
  const [file, argv] = rss && gnuTime ? [gnuTime, ['-f', `${RSS_MARK}%M`, cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const kb = r.stderr.split('\n').find((l) => l.startsWith(RSS_MARK));
  const extra = kb ? { peak_rss_mb: Math.round(Number(kb.slice(RSS_MARK.length)) / 1024) } : {};
  // l2o prints one pretty-printed JSON document; torch_reference.py one JSON line after any logs.
  const out = r.stdout.trim();
  const parsed = out.startsWith('{')
    ? JSON.parse(out)
    : JSON.parse(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .at(-1),
      );
  return { ...parsed, ...extra };
}

const hasTorch = existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.error('PyTorch not found for /usr/bin/python3 (apt-get install -y python3-torch): printing our figures only.');

// The 1-minute load average decays slowly after earlier work: wait (up to 5 min) for it to settle.
for (let waited = 0; os.loadavg()[0] > Number(values['max-load']) && waited < 300; waited += 10) {
  if (waited === 0) console.log(`waiting for the load average (${os.loadavg()[0].toFixed(2)}) to fall below ${values['max-load']} …`);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
}
const loadBefore = os.loadavg()[0];
console.log(`load average before: ${loadBefore.toFixed(2)} (1 min), ${os.cpus().length} cores`);
const rows = [];
let blas = null;
for (const c of CASES) {
  const ours = run(process.execPath, [
    'packages/cli/bin/run.js',
    'bench',
    '--model',
    c.model,
    ...(c.options ?? []),
    ...size,
    ...(values['micro-batch'] === 'auto' ? [] : ['--micro-batch', values['micro-batch']]),
    '--workers',
    values.workers,
    '--backend',
    'wasm',
    '--json',
  ]);
  const torch =
    hasTorch && c.torch
      ? run(
          '/usr/bin/python3',
          [
            values.torch,
            ...c.torch,
            '--m',
            values.m,
            '--n',
            values.n,
            '--batch',
            values.batch,
            '--unroll',
            values.unroll,
            '--repeats',
            values.repeats,
            '--threads',
            values['torch-threads'],
          ],
          { OPENBLAS_NUM_THREADS: String(torchThreads) },
          { rss: true },
        )
      : null;
  if (torch?.blas) blas = torch.blas;
  if (torch?.blas === 'unknown')
    console.error(
      "PyTorch is not running on OpenBLAS (Debian's python3-torch falls back to the slow reference BLAS): apt-get install -y libopenblas0-pthread.",
    );
  const row = { case: c.id, ours, torch };
  rows.push(row);
  const ratio = (a, b) => (b ? (a / b).toFixed(2) : '—');
  console.log(
    `${c.id.padEnd(20)} train segment ${String(ours.train_segment_ms).padStart(8)} ms vs ${String(torch?.train_segment_ms ?? '—').padStart(8)} ms  ×${ratio(ours.train_segment_ms, torch?.train_segment_ms)}   ` +
      `eval iteration ${String(ours.eval_iter_ms).padStart(7)} ms vs ${String(torch?.eval_iter_ms ?? '—').padStart(7)} ms  ×${ratio(ours.eval_iter_ms, torch?.eval_iter_ms)}   ` +
      `peak RSS ${ours.peak_rss_mb} MB vs ${torch?.peak_rss_mb ?? '—'} MB, params ${ours.params}${torch ? `/${torch.params}` : ''}, micro-batch ${ours.micro_batch}`,
  );
}
const loadAfter = os.loadavg()[0];
console.log(`PyTorch BLAS kernel: ${blas ?? '—'} (OPENBLAS_NUM_THREADS=${torchThreads}); load average after: ${loadAfter.toFixed(2)} (1 min)`);
// While a benchmark runs it keeps about one core busy itself (two with --workers 2 or 2 torch threads).
const expected = Math.max(Number(values.workers), torchThreads);
const busy = loadBefore > Number(values['max-load']) || loadAfter > expected + Number(values['max-load']) + 0.5;
if (values.out && busy) {
  console.error(
    `Not writing ${values.out}: the load average (${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after) shows other work on the machine. Measure on an idle machine.`,
  );
  process.exitCode = 1;
} else if (values.out) {
  writeFileSync(
    values.out,
    `${JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version, loadBefore, loadAfter }, blas, size: values, rows }, null, 2)}\n`,
  );
}
