import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, expectOneLineError, args } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const dirs = { cache: path.join(temp, 'cache'), runs: path.join(temp, 'runs') };

describe('l2o CLI', () => {
  it('rejects bad flags with one line and exit code 2', () => {
    const unknownFlag = runCli(['run', '--problem', 'lasso', '--optimizer', 'fista', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expectOneLineError(unknownFlag.stderr, /Nonexistent flag: --bogus/);

    const missing = runCli(['run', '--optimizer', 'fista']);
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /Missing required flag problem/);

    const badBackend = runCli(['run', '--problem', 'lasso', '--optimizer', 'fista', '--backend', 'gpu']);
    expect(badBackend.code).toBe(2);
    expectOneLineError(badBackend.stderr, /Unknown backend 'gpu'\. Use one of: auto, tensorflow-gpu, tensorflow, wasm, cpu\./);

    const badInt = runCli(['run', '--problem', 'lasso', '--optimizer', 'fista', '--iterations', '-3']);
    expect(badInt.code).toBe(2);
    expectOneLineError(badInt.stderr, /--iterations must be an integer from 1 to 1000000 .*got -3\./);
  });

  it('names unknown plugin ids with a suggestion', () => {
    const r = runCli(['run', '--problem', 'lasso', '--optimizer', 'fsita', '--cache-dir', dirs.cache, '--runs-dir', dirs.runs]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /Unknown optimizer or model 'fsita'\. Did you mean 'fista'\? Known: .*ista/);
    expect(existsSync(dirs.runs)).toBe(false); // nothing half-written
  });

  it('fails clearly when asked for a missing native engine', () => {
    const r = runCli(['doctor', '--backend', 'tensorflow-gpu']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /Backend 'tensorflow-gpu' is not available: not installed \(npm install @tensorflow\/tfjs-node-gpu/);
  });

  it('lists the discovered plugins with package and version', () => {
    const r = runCli(['plugins', '--json']);
    expect(r.code).toBe(0);
    const plugins = JSON.parse(r.stdout) as { package: string; version: string; registers: Record<string, string[]> }[];
    const byName = Object.fromEntries(plugins.map((p) => [p.package, p]));
    expect(byName['@l2o/problems']!.registers.problem).toEqual(['lasso', 'logistic-l1']);
    expect(byName['@l2o/baselines']!.registers.optimizer).toEqual(['adam', 'fista', 'ista', 'sgd']);
    expect(byName['@l2o/datasets']!.registers.dataset).toEqual(['bsds500', 'ionosphere', 'spambase', 'synthetic']);
    expect(byName['@l2o/models']!.registers.model).toEqual(['gru', 'gru-mha', 'l2o-dm', 'lstm', 'rnnprop']);
    for (const p of plugins) expect(p.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reports engines', () => {
    const r = runCli(['doctor', '--json'], { env: { L2O_BACKEND: 'auto' } });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { chosen: string; engines: { engine: string; ok: boolean }[] };
    expect(report.chosen).toBe('wasm');
    expect(report.engines.map((e) => [e.engine, e.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
      ['cpu', true],
    ]);
  });

  it('runs FISTA on synthetic LASSO and writes a run directory', () => {
    const r = runCli(
      args`run --optimizer fista --problem lasso --dataset synthetic --scale smoke --iterations 60 --cache-dir ${dirs.cache} --runs-dir ${dirs.runs}`,
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fista\s+F /);
    const runDir = /run directory: (.*)/.exec(r.stdout)![1]!.trim();
    const files = readdirSync(runDir, { recursive: true }).map(String).sort();
    expect(files).toEqual(expect.arrayContaining(['config.json', 'metrics/fista.csv', 'metrics/fista.json', 'summary.json', 'summary.md']));
    const csv = readFileSync(path.join(runDir, 'metrics/fista.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('iteration,mean_f,mean_rel_gap');
    expect(csv).toHaveLength(62);
    const gaps = csv.slice(1).map((l) => Number(l.split(',')[2]));
    expect(gaps[60]!).toBeLessThan(gaps[0]!);
    expect(gaps[60]!).toBeGreaterThan(-1e-5); // F* is the optimum

    // --json prints the machine-readable result; the second run reuses the cached test set.
    const json = runCli(args`run --optimizer ista --problem lasso --scale smoke --iterations 60 --json --cache-dir ${dirs.cache} --runs-dir ${dirs.runs}`);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { summary: { optimizers: { label: string; finalGap: number }[] }; runDir: string };
    expect(parsed.summary.optimizers[0]!.label).toBe('ista');
    expect(parsed.runDir).not.toBe(runDir);
    // ISTA converges more slowly than FISTA on the same instances.
    expect(parsed.summary.optimizers[0]!.finalGap).toBeGreaterThan(gaps[60]!);
  });

  it("-k sets the test's iterations only: the model trains with the scale's K (and so the same checkpoint)", () => {
    type Plan = { plan: { testSet: { iterations: number }; training: { iterations: number }; optimizers: { checkpoint?: string }[] } };
    const dryRun = (...extra: string[]) => {
      const r = runCli([...args`run --model lstm --problem lasso --scale smoke --dry-run --json --cache-dir ${dirs.cache} --runs-dir ${dirs.runs}`, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as Plan).plan;
    };
    const withK = dryRun('-k', '30');
    expect(withK.testSet.iterations).toBe(30);
    expect(withK.training.iterations).toBe(20); // the smoke scale's
    expect(withK.optimizers[0]!.checkpoint).toBe(dryRun().optimizers[0]!.checkpoint);
  });

  it.each(['lasso', 'logistic-l1'])('runs every baseline on synthetic %s with --json', (problem) => {
    for (const optimizer of ['sgd', 'adam', 'ista', 'fista']) {
      const r = runCli(args`run --optimizer ${optimizer} --problem ${problem} --scale smoke --json --cache-dir ${dirs.cache} --runs-dir ${dirs.runs}`);
      expect(r.code, r.stderr).toBe(0);
      const { summary } = JSON.parse(r.stdout) as { summary: { optimizers: { label: string; finalGap: number; finalF: number }[] } };
      expect(summary.optimizers[0]!.label).toBe(optimizer);
      expect(Number.isFinite(summary.optimizers[0]!.finalF)).toBe(true);
      expect(summary.optimizers[0]!.finalGap).toBeGreaterThan(-1e-5); // never below the optimum
    }
  });

  it('exports a test set as .npy files and solves exported instances', () => {
    const out = path.join(temp, 'export');
    const exported = runCli(['export', '--problem', 'lasso', '--scale', 'smoke', '--out', out, '--cache-dir', dirs.cache, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['A.npy', 'b.npy', 'f_star.npy', 'instances.json', 'x_star.npy', 'x_true.npy']);
    const meta = JSON.parse(readFileSync(path.join(out, 'instances.json'), 'utf8')) as { count: number; m: number; n: number };
    expect([meta.m, meta.n]).toEqual([20, 40]);
    const solved = path.join(temp, 'solved');
    const r = runCli(['solve', '--input', out, '--optimizer', 'fista', '--iterations', '2000', '--out', solved, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(path.join(solved, 'result.json'), 'utf8')) as { relativeGap: number[] };
    expect(result.relativeGap).toHaveLength(meta.count);
    // FISTA run long reaches the exported F* (itself FISTA to the KKT tolerance).
    for (const g of result.relativeGap) expect(Math.abs(g)).toBeLessThan(1e-4);
    const overwrite = runCli(['export', '--problem', 'lasso', '--scale', 'smoke', '--out', out, '--cache-dir', dirs.cache]);
    expect(overwrite.code).not.toBe(0);
  });
});
