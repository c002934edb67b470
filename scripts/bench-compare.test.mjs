// The pure parts of scripts/bench-compare.mjs: the order it runs the two sides in, and the medians,
// ranges and ratios its table reports. Run: node --test scripts/bench-compare.test.mjs
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { CASES, commands, formatSpread, markdownTable, median, parseOptions, ratio, schedule, spread, summarize } from './bench-compare.mjs';

const script = fileURLToPath(new URL('./bench-compare.mjs', import.meta.url));

test('each model alternates ours and PyTorch, round by round', () => {
  const cases = CASES.filter((c) => c.id === 'lstm' || c.id === 'gru');
  const steps = schedule(cases, 3, true);
  assert.deepEqual(
    steps.map((s) => `${s.case}:${s.round}:${s.side}`),
    [
      'lstm:1:ours',
      'lstm:1:torch',
      'lstm:2:ours',
      'lstm:2:torch',
      'lstm:3:ours',
      'lstm:3:torch',
      'gru:1:ours',
      'gru:1:torch',
      'gru:2:ours',
      'gru:2:torch',
      'gru:3:ours',
      'gru:3:torch',
    ],
  );
});

test('a case without a PyTorch counterpart, or a machine without PyTorch, runs ours alone', () => {
  const linear = CASES.filter((c) => c.id === 'gru-mha-linear');
  assert.deepEqual(
    schedule(linear, 2, true).map((s) => s.side),
    ['ours', 'ours'],
  );
  assert.deepEqual(
    schedule(CASES.slice(0, 1), 2, false).map((s) => s.side),
    ['ours', 'ours'],
  );
});

test('the default is five rounds of each side', () => {
  const { values, cases } = parseOptions(['--only', 'lstm']);
  assert.equal(values.rounds, '5');
  assert.deepEqual(
    schedule(cases, Number(values.rounds), true).map((s) => s.side),
    ['ours', 'torch', 'ours', 'torch', 'ours', 'torch', 'ours', 'torch', 'ours', 'torch'],
  );
});

test('a bad --rounds or --only is one line and exit 2, before any run', () => {
  const r = spawnSync(process.execPath, [script, '--rounds', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--rounds 0: give an integer of at least 1/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const only = spawnSync(process.execPath, [script, '--only', 'lsmt'], { encoding: 'utf8' });
  assert.equal(only.status, 2);
  assert.match(only.stderr, /--only lsmt: no such case; give some of lstm, gru/);
});

test('median, range and ratio of medians', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(spread([2900, 1500, 2100, 1800, 2000]), { median: 2000, min: 1500, max: 2900, values: [2900, 1500, 2100, 1800, 2000] });
  assert.equal(ratio(1500, 2000), 0.75);
  assert.equal(ratio(1500, undefined), null);

  const s = summarize([
    { train_segment_ms: 1580, eval_iter_ms: 35.2, peak_rss_mb: 650 },
    { train_segment_ms: 1540, eval_iter_ms: 36.1, peak_rss_mb: 700 },
    { train_segment_ms: 2050, eval_iter_ms: 34.9, peak_rss_mb: 660 },
  ]);
  assert.equal(s.train_segment_ms.median, 1580);
  assert.deepEqual([s.train_segment_ms.min, s.train_segment_ms.max], [1540, 2050]);
  assert.equal(s.eval_iter_ms.median, 35.2);
  assert.equal(s.peak_rss_mb, 700, 'peak RSS is the highest of the rounds');
  assert.equal(formatSpread(s.train_segment_ms), '1.58 s (1.54–2.05)');
  assert.equal(formatSpread(s.eval_iter_ms), '35.2 ms (34.9–36.1)');
});

test('the Markdown table: medians with ranges, ratios of medians in bold, peak RSS in GB', () => {
  const ours = summarize([
    { train_segment_ms: 1580, eval_iter_ms: 35.2, peak_rss_mb: 666 },
    { train_segment_ms: 1600, eval_iter_ms: 36, peak_rss_mb: 660 },
  ]);
  const torch = summarize([
    { train_segment_ms: 1500, eval_iter_ms: 50, peak_rss_mb: 2580 },
    { train_segment_ms: 2900, eval_iter_ms: 54, peak_rss_mb: 2500 },
  ]);
  const row = {
    label: 'lstm',
    ours,
    torch,
    ratio: {
      train_segment: ratio(ours.train_segment_ms.median, torch.train_segment_ms.median),
      eval_iter: ratio(ours.eval_iter_ms.median, torch.eval_iter_ms.median),
    },
  };
  const lines = markdownTable([row, { label: 'gru-mha, linear attention', ours, torch: null, ratio: { train_segment: null, eval_iter: null } }])
    .trim()
    .split('\n');
  assert.match(lines[0], /^\| model \| train segment: ours \/ PyTorch \(median, range\) \| ratio \| eval iteration/);
  assert.equal(
    lines[2],
    '| lstm | 1.59 s (1.58–1.60) / 2.20 s (1.50–2.90) | **0.72** | 35.6 ms (35.2–36.0) / 52.0 ms (50.0–54.0) | **0.68** | 0.65 / 2.52 GB |',
  );
  assert.equal(lines[3], '| gru-mha, linear attention | 1.59 s (1.58–1.60) / — | — | 35.6 ms (35.2–36.0) / — | — | 0.65 / — GB |');
});

test('both sides time the same size; PyTorch with OpenBLAS capped at its thread count', () => {
  const values = {
    m: '10',
    n: '20',
    s: '4',
    batch: '2',
    unroll: '2',
    repeats: '1',
    'torch-threads': '0',
    'micro-batch': 'auto',
    workers: '1',
    torch: '/x/torch_reference.py',
  };
  const { ours, torch } = commands(CASES[0], values, { torchThreads: 1, gnuTimePath: '/usr/bin/time' });
  const size = ['--m', '10', '--n', '20', '--s', '4', '--batch', '2', '--unroll', '2', '--repeats', '1'];
  assert.deepEqual(ours.argv.slice(1), ['packages/cli/bin/run.js', 'bench', '--model', 'lstm', ...size, '--workers', '1', '--backend', 'wasm', '--json']);
  assert.deepEqual(torch.argv.slice(3), ['/usr/bin/python3', '/x/torch_reference.py', '--model', 'lstm', ...size, '--threads', '0']);
  assert.deepEqual(torch.env, { OPENBLAS_NUM_THREADS: '1' });
});
