/// <reference lib="dom" />
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { selectEngine } from '@l2o/core';
import { runLive, type LiveCheckpoint } from '@l2o/dashboard';
import { args, expectOneLineError, REPO_ROOT, runCli } from './test-utils/run-cli.js';

// The dashboard in a real browser: Debian's chromium driven by playwright-core, headless, against
// `l2o dashboard` over a store filled by two smoke runs. Where no browser is found the tests say
// why and are skipped, except in CI (L2O_REQUIRE_BROWSER=1), where that is a failure.
const BROWSERS = [process.env.L2O_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
const executablePath = BROWSERS.find((p) => existsSync(p));
const required = process.env.L2O_REQUIRE_BROWSER === '1';
const noBrowser = executablePath ? null : `no chromium found (looked at ${BROWSERS.join(', ')}; apt-get install -y chromium)`;
if (noBrowser && !required) console.warn(`dashboard browser tests skipped: ${noBrowser}`);
const ARTIFACTS = path.join(process.env.L2O_TEST_ARTIFACTS ?? path.join(os.tmpdir(), 'l2o-test-artifacts'), 'dashboard');

const BIN = path.join(REPO_ROOT, 'packages/cli/bin/run.js');
let temp: string;
let store: string;
/** A results folder (docs/results of the temp folder) holding the repository's kept data of fig1 and its page. */
let results: string;
let dashboard: ChildProcess;
let url: string;
let browser: Browser;
let page: Page;

/** Starts `l2o dashboard` with these arguments; resolves with its URL once it listens. */
function startDashboard(argv: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'dashboard', ...argv], {
    cwd: temp,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /dashboard on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`l2o dashboard exited with ${code}: ${err}`)));
  });
}

async function shot(name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function open(hash: string): Promise<void> {
  await page.goto(`${url}${hash}`);
  await page.waitForFunction((h) => document.body.getAttribute('data-ready') === h, hash, { timeout: 60_000 });
}

describe.skipIf(noBrowser !== null && !required)('l2o dashboard in a browser', () => {
  beforeAll(async () => {
    if (noBrowser) throw new Error(`The dashboard's browser tests need a browser: ${noBrowser}.`);
    temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-'));
    store = path.join(temp, 'store');
    for (const seed of [0, 1]) {
      const r = runCli(
        args`run --model gru --problem lasso --dataset synthetic --scale smoke --seed ${seed} --store ${store} --runs-dir ${path.join(temp, 'runs')} -q`,
        {
          cwd: temp,
          env: { L2O_CACHE_DIR: path.join(temp, 'cache') },
        },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    results = path.join(temp, 'docs/results');
    // As `l2o results --scale paper,cpu` lays them out: each scale's pages and kept data in its folder.
    mkdirSync(path.join(results, 'cpu', 'data'), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, 'docs/results/cpu/data/fig1.json'), path.join(results, 'cpu/data/fig1.json'));
    copyFileSync(path.join(REPO_ROOT, 'docs/results/cpu/fig1.md'), path.join(results, 'cpu/fig1.md'));
    ({ child: dashboard, url } = await startDashboard(['--store', store, '--port', '0', '--results', results]));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: executablePath!, headless: true });
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    dashboard?.kill('SIGINT');
    if (dashboard && dashboard.exitCode === null) await new Promise((resolve) => dashboard.once('exit', resolve));
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  it('lists the stored runs, and a filter narrows the table', async () => {
    await open('#/runs');
    const rows = page.locator('#runs-table tbody tr');
    expect(await rows.count()).toBe(2);
    const seeds = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[6]!.textContent));
    expect(seeds.sort()).toEqual(['0', '1']);
    await shot('runs');
    await page.fill('#filter-seed', '1');
    await page.dispatchEvent('#filters', 'change');
    await page.waitForFunction(() => document.body.getAttribute('data-ready')?.includes('seed=1'));
    expect(await page.locator('#runs-table tbody tr').count()).toBe(1);
    expect(await page.locator('#runs-table tbody tr td:nth-child(7)').textContent()).toBe('1');
    await shot('runs-filtered');
  });

  it("draws a run's convergence plot with a point per iteration", async () => {
    const id = await page.locator('#runs-table tbody tr').first().getAttribute('data-run-id');
    const run = (await (await fetch(`${url}api/runs/${id}`)).json()) as {
      summary: { iterations: number; optimizers: { label: string; divergedInstances?: number; gapInstances?: number }[] };
    };
    await open(`#/runs/${id}`);
    await page.waitForSelector('#plot svg');
    // vega draws each optimizer's line as one path "M x,y L x,y …": one L per iteration after k = 0.
    const lines = await page.locator('#plot svg g.mark-line path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''));
    expect(lines).toHaveLength(run.summary.optimizers.length);
    for (const d of lines) expect(d.split('L')).toHaveLength(run.summary.iterations + 1);
    expect(await page.locator('#metrics tbody tr').count()).toBe(run.summary.optimizers.length);
    // Beside the mean: how many instances diverged, as the run's summary counts them.
    const heads = await page.locator('#metrics thead th').allTextContents();
    const first = run.summary.optimizers[0]!;
    expect(first.divergedInstances).toBeTypeOf('number');
    expect(await page.locator(`#metrics tbody tr:first-child td:nth-child(${heads.indexOf('diverged') + 1})`).textContent()).toBe(
      `${first.divergedInstances} of ${first.gapInstances}`,
    );
    await shot('run');
  });

  it('shows the figure over both seeds and says that no queue is followed', async () => {
    await open('#/figures');
    const stored = page.locator('#figures .card[data-source="store"]');
    expect(await stored.count()).toBe(1);
    expect(await stored.textContent()).toContain('seeds 0, 1');
    await open('#/figures/gru-lasso-synthetic?scale=smoke');
    await page.waitForSelector('#plot svg');
    expect(await page.locator('#plot svg g.mark-line path').count()).toBeGreaterThan(0);
    await shot('figure');
    await open('#/sweeps');
    expect(await page.locator('#sweeps-none').textContent()).toContain('--queue');
  });

  it('shows a figure the store has no run of from its kept data (docs/results/<scale>/data), marked as such, with its verdict and plot', async () => {
    const kept = JSON.parse(readFileSync(path.join(results, 'cpu/data/fig1.json'), 'utf8')) as {
      runs: { id: string; summary: { scale: string; seed: number; optimizers: unknown[] } }[];
    };
    const seeds = kept.runs.map((r) => r.summary.seed).sort((a, b) => a - b);
    const scale = kept.runs[0]!.summary.scale;
    await open('#/figures');
    const card = page.locator('#figures .card[data-figure="fig1"]');
    expect(await card.getAttribute('data-source')).toBe('kept');
    const text = (await card.textContent())!;
    expect(text).toContain(`fig1 · ${scale} · lasso on synthetic · seeds ${seeds.join(', ')}`);
    expect(text).toContain('kept data (docs/results/cpu)');
    // The verdict's first line, as docs/results/cpu/fig1.md gives it.
    const verdict = /^## Verdict\s*\n\s*(.+)$/m.exec(readFileSync(path.join(results, 'cpu/fig1.md'), 'utf8'))![1]!.trim();
    expect(await card.locator('.verdict').textContent()).toBe(verdict);
    await shot('figures-kept');
    await card.locator('a').click();
    await page.waitForFunction(() => document.body.getAttribute('data-ready')?.startsWith('#/figures/fig1'));
    await page.waitForSelector('#plot svg');
    expect(await page.locator('h1').textContent()).toBe(`fig1 (${scale})`);
    expect(await page.locator('#figure-runs').textContent()).toContain('kept data (docs/results/cpu)');
    // The kept runs are not in the store: named, not linked.
    expect(await page.locator('#figure-runs a').count()).toBe(0);
    expect(await page.locator('#verdict').textContent()).toContain(verdict);
    // One mean line per optimizer over the kept seeds.
    expect(await page.locator('#plot svg g.mark-line path').count()).toBe(kept.runs[0]!.summary.optimizers.length);
    await shot('figure-kept');
  });

  it("runs the stored checkpoint live in the page: F after 20 iterations equals Node's within 1e-4", async () => {
    const { checkpoints } = (await (await fetch(`${url}api/checkpoints`)).json()) as {
      checkpoints: { sha256: string; problem: { id: string; options: Record<string, unknown> }; trainDataset: { options: Record<string, unknown> } }[];
    };
    const chosen = checkpoints[0]!;
    const checkpoint = (await (await fetch(`${url}api/checkpoints/${chosen.sha256}`)).json()) as LiveCheckpoint;
    await selectEngine('wasm');
    const node = await runLive({ checkpoint, problem: chosen.problem, datasetOptions: chosen.trainDataset.options, seed: 3, iterations: 20 });
    // The page's own choice (WebGL where the browser offers it), then WASM explicitly.
    for (const backend of ['', '&backend=wasm']) {
      await open(`#/live?iterations=20&seed=3${backend}`);
      await page.click('#live-start');
      await page.waitForSelector('#live-status[data-state]', { timeout: 120_000 });
      expect(await page.getAttribute('#live-status', 'data-state'), (await page.textContent('#live-status')) ?? '').toBe('done');
      const live = await page.evaluate(() => window.__l2oLive!);
      expect(live.sha256).toBe(chosen.sha256);
      if (backend) expect(live.backend).toBe('wasm');
      expect(live.curves.map((c) => c.label)).toEqual(node.curves.map((c) => c.label));
      for (const [i, curve] of live.curves.entries()) {
        expect(curve.f).toHaveLength(21);
        const want = node.curves[i]!.f[20]!;
        expect(Math.abs(curve.f[20]! - want) / Math.abs(want), `${curve.label} on ${live.backend}`).toBeLessThan(1e-4);
      }
      expect(Math.abs(live.fStar - node.fStar) / Math.abs(node.fStar)).toBeLessThan(1e-4);
      // The plot drew every iteration of both: one path each, "M x,y L x,y …" with 20 L.
      const paths = await page.locator('#live-plot svg g.mark-line path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d') ?? ''));
      expect(paths.map((d) => d.split('L').length)).toEqual([21, 21]);
      await shot(`live-${live.backend}`);
    }
  });
});

declare global {
  interface Window {
    __l2oLive?: { sha256: string; backend: string; fStar: number; curves: { label: string; f: number[]; gap: number[] }[] };
  }
}

describe('l2o dashboard: bad input', () => {
  it('refuses a port out of range, a store that is off and an unreachable queue, in one line', () => {
    let r = runCli(['dashboard', '--port', '70000']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /port/i);
    r = runCli(['dashboard', '--store', 'off']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /store.*off/i);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-bad-'));
    try {
      // The queue is checked before the store is made.
      r = runCli(['dashboard', '--store', path.join(dir, 'store'), '--create', '--queue', 'redis://127.0.0.1:1']);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, /redis/i);
      expect(existsSync(path.join(dir, 'store'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a --store folder that does not exist, unless --create is given', async () => {
    temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-missing-'));
    const missing = path.join(temp, 'sotre');
    try {
      // Given by --store, or by L2O_STORE.
      const ways: [string[], Record<string, string>][] = [
        [['--store', missing], {}],
        [[], { L2O_STORE: missing }],
      ];
      for (const [argv, env] of ways) {
        const r = runCli(['dashboard', '--port', '0', ...argv], { env });
        expect(r.code).toBe(2);
        expectOneLineError(r.stderr, /No run store at/);
        expect(r.stderr.trim()).toBe(`Error: No run store at ${missing}. Check the path, or pass --create to make an empty one.`);
        expect(r.stdout).toBe('');
        expect(existsSync(missing)).toBe(false);
      }
      const dry = runCli(['dashboard', '--port', '0', '--store', missing, '--create', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would create an empty run store at ${missing}`);
      expect(existsSync(missing)).toBe(false);
      const d = await startDashboard(['--store', missing, '--create', '--port', '0']);
      const res = await fetch(`${d.url}api/runs`);
      expect(await res.json()).toEqual({ runs: [] });
      expect(existsSync(missing)).toBe(true);
      d.child.kill('SIGINT');
      await new Promise((resolve) => d.child.once('exit', resolve));
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('refuses a --results folder that does not exist; without --results, reads docs/results of the checkout it runs from', async () => {
    temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-results-'));
    try {
      const r = runCli(['dashboard', '--port', '0', '--store', path.join(temp, 'store'), '--create', '--results', path.join(temp, 'nope')]);
      expect(r.code).toBe(2);
      expectOneLineError(r.stderr, /No results folder at/);
      expect(existsSync(path.join(temp, 'store'))).toBe(false);
      // Run from another folder (no docs/results there): the checkout's kept figures, with an empty store.
      const d = await startDashboard(['--store', path.join(temp, 'store'), '--create', '--port', '0']);
      const { figures } = (await (await fetch(`${d.url}api/figures`)).json()) as { figures: { name: string; source: string; keptFile?: string }[] };
      const fig1 = figures.find((f) => f.name === 'fig1');
      expect(fig1).toMatchObject({ source: 'kept', keptFile: path.join(REPO_ROOT, 'docs/results/cpu/data/fig1.json') });
      expect(figures.every((f) => f.source === 'kept')).toBe(true);
      d.child.kill('SIGINT');
      await new Promise((resolve) => d.child.once('exit', resolve));
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('warns when it listens beyond this machine', async () => {
    temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-dashboard-host-'));
    try {
      const d = await startDashboard(['--store', path.join(temp, 'store'), '--create', '--port', '0', '--host', '0.0.0.0']);
      expect(d.stderr()).toMatch(/^Warning: the dashboard listens on 0\.0\.0\.0/m);
      const res = await fetch(d.url.replace('0.0.0.0', '127.0.0.1') + 'api/runs');
      expect(((await res.json()) as { runs: unknown[] }).runs).toEqual([]);
      d.child.kill('SIGINT');
      await new Promise((resolve) => d.child.once('exit', resolve));
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
