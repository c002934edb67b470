#!/usr/bin/env node
// Runs `l2o bench` and ../shared/bench/torch_reference.py on the same workloads on the same
// machine, alternating the two sides (ours, PyTorch, ours, PyTorch, …) for --rounds rounds per
// model, and reports per side the median and range (min–max) over the rounds of the training
// segment and of the evaluation iteration, the ratio of medians (ours / PyTorch: below 1 is
// faster), peak RSS, PyTorch's BLAS kernel, the load average before each round and the exact
// commands. One run per side is not a measurement here: the same PyTorch command took 1.5–2.9 s
// in runs minutes apart, so the rounds interleave to expose both sides to the same drift.
// Usage: node scripts/bench-compare.mjs [--rounds 5 --repeats 1 --m 250 --n 500 --s 50 --batch 64
// --unroll 20 --torch-threads 0 --micro-batch auto --workers 1 --only lstm,gru-mha-linear
// --out bench.json (also writes bench.md, the Markdown table) --max-load 0.5]
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Micro-batch: `--micro-batch auto` (the default) leaves it to `l2o bench`, which picks the largest
// that fits the engine's memory, as a user's training does (each row prints the one it chose).
export const CASES = [
  { id: 'lstm', label: 'lstm', model: 'lstm', torch: ['--model', 'lstm'] },
  { id: 'gru', label: 'gru', model: 'gru', torch: ['--model', 'gru'] },
  {
    id: 'gru-mha-coordinates',
    label: 'gru-mha, coordinates (exact softmax)',
    model: 'gru-mha',
    options: ['-o', 'gru-mha.attention.axis=coordinates'],
    torch: ['--model', 'gru-mha', '--axis', 'coordinates'],
  },
  {
    id: 'gru-mha-history',
    label: 'gru-mha, history attention',
    model: 'gru-mha',
    options: ['-o', 'gru-mha.attention.axis=history'],
    torch: ['--model', 'gru-mha', '--axis', 'history'],
  },
  // The linear-cost kernel has no counterpart in torch_reference.py.
  { id: 'gru-mha-linear', label: 'gru-mha, linear attention', model: 'gru-mha', options: ['-o', 'gru-mha.attention.kernel=linear'], torch: null },
];

/**
 * The order of the runs: per case, `rounds` rounds of ours then PyTorch (ours alone when the case
 * or the machine has no PyTorch side), so both sides meet the same drift of the machine.
 */
export function schedule(cases, rounds, hasTorch) {
  const steps = [];
  for (const c of cases)
    for (let round = 1; round <= rounds; round++) {
      steps.push({ case: c.id, round, side: 'ours' });
      if (hasTorch && c.torch) steps.push({ case: c.id, round, side: 'torch' });
    }
  return steps;
}

export function median(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median and range of one measure over the rounds, with the values in the order they ran. */
export function spread(values) {
  if (values.length === 0) return null;
  // Rounded to drop float noise from averaging two middle values; the inputs have 1–2 decimals.
  return { median: Math.round(median(values) * 1000) / 1000, min: Math.min(...values), max: Math.max(...values), values };
}

/** ours / PyTorch, or null when either side is missing. */
export function ratio(ours, torch) {
  return ours == null || !torch ? null : ours / torch;
}

/** One side's rounds (each `l2o bench --json` or torch_reference.py output) summarised. */
export function summarize(results) {
  if (results.length === 0) return null;
  const rss = results.map((r) => r.peak_rss_mb).filter((v) => typeof v === 'number');
  return {
    train_segment_ms: spread(results.map((r) => r.train_segment_ms)),
    eval_iter_ms: spread(results.map((r) => r.eval_iter_ms)),
    // A peak: the highest of the rounds.
    peak_rss_mb: rss.length ? Math.max(...rss) : null,
  };
}

/** Three significant figures, in s from 1000 ms on, as docs/performance.md writes times. */
function unitOf(ms) {
  return ms >= 1000 ? { div: 1000, unit: 's' } : { div: 1, unit: 'ms' };
}
function figure(value) {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
export function formatMs(ms) {
  const { div, unit } = unitOf(ms);
  return `${figure(ms / div)} ${unit}`;
}
/** '1.58 s (1.54–1.62)': the median, and the range in the median's unit. */
export function formatSpread(s) {
  if (!s) return '—';
  const { div, unit } = unitOf(s.median);
  return `${figure(s.median / div)} ${unit} (${figure(s.min / div)}–${figure(s.max / div)})`;
}
function formatRatio(r) {
  return r == null ? '—' : `**${r.toFixed(2)}**`;
}
function gb(mb) {
  return mb == null ? '—' : (mb / 1024).toFixed(2);
}

/** The table docs/performance.md shows: medians with ranges over the rounds, ratios of medians. */
export function markdownTable(rows) {
  const lines = [
    '| model | train segment: ours / PyTorch (median, range) | ratio | eval iteration: ours / PyTorch (median, range) | ratio | peak RSS: ours / PyTorch |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const t = r.torch;
    lines.push(
      `| ${r.label} | ${formatSpread(r.ours.train_segment_ms)} / ${formatSpread(t?.train_segment_ms)} | ${formatRatio(r.ratio.train_segment)} | ` +
        `${formatSpread(r.ours.eval_iter_ms)} / ${formatSpread(t?.eval_iter_ms)} | ${formatRatio(r.ratio.eval_iter)} | ${gb(r.ours.peak_rss_mb)} / ${gb(t?.peak_rss_mb)} GB |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A command as it would be typed in a shell. */
export function shellCommand(argv, env = {}) {
  const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [...Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`), ...argv.map(quote)].join(' ');
}

class UsageError extends Error {}

export function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        rounds: { type: 'string', default: '5' },
        // Timed repeats inside each process (after its warm-up); each round contributes their
        // median. The spread that matters is between processes, so the rounds carry it.
        repeats: { type: 'string', default: '1' },
        m: { type: 'string', default: '250' },
        n: { type: 'string', default: '500' },
        s: { type: 'string', default: '50' },
        batch: { type: 'string', default: '64' },
        unroll: { type: 'string', default: '20' },
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
    }));
  } catch (e) {
    throw new UsageError(`${e.message} (see the usage at the top of scripts/bench-compare.mjs)`);
  }
  const integer = (flag, min) => {
    const text = values[flag];
    if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${flag} ${text}: give an integer of at least ${min}.`);
    return Number(text);
  };
  for (const [flag, min] of [
    ['rounds', 1],
    ['repeats', 1],
    ['m', 1],
    ['n', 1],
    ['s', 1],
    ['batch', 1],
    ['unroll', 1],
    ['torch-threads', 0],
    ['workers', 1],
  ])
    integer(flag, min);
  if (Number(values.s) > Number(values.n)) throw new UsageError(`--s ${values.s} is more non-zeros than --n ${values.n} coordinates: give --s at most --n.`);
  if (values['micro-batch'] !== 'auto') integer('micro-batch', 1);
  if (!(Number(values['max-load']) >= 0)) throw new UsageError(`--max-load ${values['max-load']}: give a load average, a number of at least 0.`);
  if (values.out !== undefined && !values.out.endsWith('.json'))
    throw new UsageError(`--out ${values.out}: name a .json file (the Markdown table goes beside it as .md).`);
  const cases = CASES.filter((c) => !values.only || values.only.split(',').some((o) => o === c.id || o === c.model));
  const unknown = values.only?.split(',').filter((o) => !CASES.some((c) => o === c.id || o === c.model));
  if (unknown?.length) throw new UsageError(`--only ${unknown.join(',')}: no such case; give some of ${CASES.map((c) => c.id).join(', ')} (or a model id).`);
  return { values, cases };
}

// PyTorch's peak RSS: GNU time's maximum resident set size of the process (its re-executed image
// included: the kernel keeps the high-water mark across exec). Ours is the bench's own.
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const RSS_MARK = 'l2o-bench-maxrss-kb=';

class RunError extends Error {}

function run({ argv, env }) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  const command = shellCommand(argv, env);
  if (r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new RunError(`${command} failed (exit ${r.status ?? r.signal}): ${why}`);
  }
  const kb = r.stderr.split('\n').find((l) => l.startsWith(RSS_MARK));
  const extra = kb ? { peak_rss_mb: Math.round(Number(kb.slice(RSS_MARK.length)) / 1024) } : {};
  // l2o prints one pretty-printed JSON document; torch_reference.py one JSON line after any logs.
  const out = r.stdout.trim();
  try {
    const json = out.startsWith('{') ? out : out.split('\n').findLast((l) => l.startsWith('{'));
    return { ...JSON.parse(json), ...extra };
  } catch {
    throw new RunError(`${command} printed no JSON result: ${out.slice(0, 200)}`);
  }
}

/** Both sides' commands for one case: argv (node as `node`, run from the repository root) and env. */
export function commands(c, values, { torchThreads, gnuTimePath = gnuTime } = {}) {
  const size = ['--m', values.m, '--n', values.n, '--s', values.s, '--batch', values.batch, '--unroll', values.unroll, '--repeats', values.repeats];
  const ours = {
    argv: [
      process.execPath,
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
    ],
    env: {},
  };
  if (!c.torch) return { ours, torch: null };
  const py = ['/usr/bin/python3', values.torch, ...c.torch, ...size, '--threads', values['torch-threads']];
  // Equal cores: OpenBLAS (Debian's libopenblas0-pthread) keeps a thread pool of its own beside
  // PyTorch's intra-op threads; cap it at PyTorch's thread count (1 unless --torch-threads).
  const torch = { argv: gnuTimePath ? [gnuTimePath, '-f', `${RSS_MARK}%M`, ...py] : py, env: { OPENBLAS_NUM_THREADS: String(torchThreads) } };
  return { ours, torch };
}

function display(cmd) {
  const argv = [...cmd.argv];
  if (argv[0] === process.execPath) argv[0] = 'node';
  return shellCommand(argv, cmd.env);
}

/** Writes a file whole or not at all. */
function writeWhole(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function main(argv) {
  const { values, cases } = parseOptions(argv);
  const rounds = Number(values.rounds);
  const torchThreads = Number(values['torch-threads']) || 1;
  const maxLoad = Number(values['max-load']);

  const hasTorch = existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!hasTorch) console.error('PyTorch not found for /usr/bin/python3 (apt-get install -y python3-torch libopenblas0-pthread): printing our figures only.');
  else if (!existsSync(values.torch)) throw new UsageError(`--torch ${values.torch}: no such file; give the path of torch_reference.py.`);

  // The 1-minute load average decays slowly after earlier work: wait (up to 5 min) for it to settle.
  for (let waited = 0; os.loadavg()[0] > maxLoad && waited < 300; waited += 10) {
    if (waited === 0) console.log(`waiting for the load average (${os.loadavg()[0].toFixed(2)}) to fall below ${maxLoad} …`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  console.log(`${os.cpus().length} cores; ${rounds} rounds per model, ours then PyTorch in each`);

  const byCase = new Map(cases.map((c) => [c.id, { c, cmds: commands(c, values, { torchThreads }), ours: [], torch: [], load: [] }]));
  let blas = null;
  for (const step of schedule(cases, rounds, hasTorch)) {
    const entry = byCase.get(step.case);
    if (step.side === 'ours') entry.load.push(Math.round(os.loadavg()[0] * 100) / 100);
    const result = run(step.side === 'ours' ? entry.cmds.ours : entry.cmds.torch);
    entry[step.side].push(result);
    if (step.side === 'torch' && result.blas) {
      if (result.blas === 'unknown' && blas !== 'unknown')
        console.error(
          "PyTorch is not running on OpenBLAS (Debian's python3-torch falls back to the slow reference BLAS): apt-get install -y libopenblas0-pthread.",
        );
      blas = result.blas;
    }
    console.log(
      `${step.case.padEnd(20)} round ${step.round}/${rounds} ${step.side === 'ours' ? `(load ${entry.load.at(-1).toFixed(2)}) ours   ` : '        PyTorch'} ` +
        `train segment ${formatMs(result.train_segment_ms)}, eval iteration ${formatMs(result.eval_iter_ms)}, peak RSS ${result.peak_rss_mb} MB` +
        (step.side === 'ours' ? `, micro-batch ${result.micro_batch}` : ''),
    );
  }
  const loadAfter = os.loadavg()[0];

  const rows = [...byCase.values()].map(({ c, cmds, ours, torch, load }) => {
    const o = summarize(ours);
    const t = summarize(torch);
    return {
      case: c.id,
      label: c.label,
      load_before: load,
      commands: { ours: display(cmds.ours), torch: t ? display(cmds.torch) : null },
      params: { ours: ours[0].params, torch: torch[0]?.params ?? null },
      micro_batch: ours[0].micro_batch,
      ours: o,
      torch: t,
      ratio: {
        train_segment: ratio(o.train_segment_ms.median, t?.train_segment_ms.median),
        eval_iter: ratio(o.eval_iter_ms.median, t?.eval_iter_ms.median),
      },
      runs: { ours, torch },
    };
  });

  const markdown =
    markdownTable(rows) +
    `\nMedians and (min–max) over ${rounds} rounds per model, ours then PyTorch in each round; each round one process per side, ` +
    `its --repeats ${values.repeats} timed after a warm-up. PyTorch's BLAS kernel: ${blas ?? '—'} (OPENBLAS_NUM_THREADS=${torchThreads}). ` +
    `Load average (1 min) before each round: ${rows.map((r) => `${r.case} ${r.load_before.map((l) => l.toFixed(2)).join(', ')}`).join('; ')}; after: ${loadAfter.toFixed(2)}.\n\n` +
    `Commands (from the repository root):\n\n${rows.flatMap((r) => [`- ${r.case}: \`${r.commands.ours}\``, ...(r.commands.torch ? [`  and \`${r.commands.torch}\``] : [])]).join('\n')}\n`;
  console.log(`\n${markdown}`);

  // While a benchmark runs it keeps about one core busy itself (two with --workers 2 or 2 torch
  // threads), so later rounds start near that load: above it, something else was running.
  const expected = Math.max(Number(values.workers), torchThreads);
  const loads = rows.flatMap((r) => r.load_before);
  const busy = loads[0] > maxLoad || [...loads.slice(1), loadAfter].some((l) => l > expected + maxLoad + 0.5);
  if (values.out && busy) {
    console.error(
      `Not writing ${values.out}: the load average (${loads.map((l) => l.toFixed(2)).join(', ')} before the rounds, ${loadAfter.toFixed(2)} after) shows other work on the machine. Measure on an idle machine.`,
    );
    process.exitCode = 1;
  } else if (values.out) {
    const md = values.out.replace(/\.json$/, '.md');
    writeWhole(
      values.out,
      `${JSON.stringify({ machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAfter }, blas, rounds, size: values, rows }, null, 2)}\n`,
    );
    writeWhole(md, markdown);
    console.log(`wrote ${values.out} and ${md}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof RunError)) throw e;
    console.error(`bench-compare: ${e.message}`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}
