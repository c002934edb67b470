import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './test-utils/run-cli.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-runs-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const env = { L2O_STORE: path.join(temp, 'store'), L2O_CACHE_DIR: path.join(temp, 'cache') };

describe('l2o runs (embedded store)', () => {
  it('imports run directories once, lists them with filters, shows and deletes them', () => {
    const runs = path.join(temp, 'runs');
    for (const optimizer of ['fista', 'ista']) {
      // Written as run directories only (as before there was a store), then imported.
      const r = runCli(['run', '--optimizer', optimizer, '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', runs, '--store', 'off'], { env });
      expect(r.code, r.stderr).toBe(0);
    }
    const dirs = readdirSync(runs).map((d) => path.join(runs, d));
    const imported = runCli(['runs', 'import', ...dirs, '--json'], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual(dirs.map((d) => ({ id: path.basename(d), created: true })));
    const again = runCli(['runs', 'import', dirs[0]!], { env });
    expect(again.stdout).toBe(`${path.basename(dirs[0]!)}: already stored\n`);

    const listed = runCli(['runs', 'list', '--model', 'fista', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { id: string; optimizers: { id: string; finalGap: number }[] }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.optimizers.map((o) => o.id)).toEqual(['fista']);
    expect(rows[0]!.optimizers[0]!.finalGap).toBeGreaterThan(0);

    const shown = runCli(['runs', 'show', rows[0]!.id], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^fista\s+F /m);

    expect(runCli(['runs', 'rm', rows[0]!.id], { env }).code).toBe(0);
    expect(JSON.parse(runCli(['runs', 'list', '--json'], { env }).stdout)).toHaveLength(1);
    expectOneLineError(runCli(['runs', 'rm', rows[0]!.id], { env }).stderr, /No stored run has the id/);
  });

  it('l2o run stores its run; l2o runs list finds it (and --store off stores nothing)', () => {
    const store = path.join(temp, 'run-store');
    const r = runCli(['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', path.join(temp, 'stored-runs'), '--json'], {
      env: { ...env, L2O_STORE: store },
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runDir: string; stored: { id: string; location: string } };
    expect(out.stored).toEqual({ id: path.basename(out.runDir), location: store });
    // The run records the commit of the l2o checkout that made it; the store keeps it (the export below gives it back).
    expect((JSON.parse(readFileSync(path.join(out.runDir, 'summary.json'), 'utf8')) as { gitCommit?: string }).gitCommit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    const listed = JSON.parse(runCli(['runs', 'list', '--model', 'fista', '--json'], { env: { ...env, L2O_STORE: store } }).stdout) as { id: string }[];
    expect(listed.map((x) => x.id)).toEqual([out.stored.id]);
    // Exported back, the run directory has every file of the original, byte for byte.
    const exported = path.join(temp, 'exported');
    const ex = runCli(['runs', 'export', out.stored.id, exported], { env: { ...env, L2O_STORE: store } });
    expect(ex.code, ex.stderr).toBe(0);
    const filesOf = (dir: string) => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => !statSync(path.join(dir, f)).isDirectory()).sort();
    expect(filesOf(exported)).toEqual(filesOf(out.runDir));
    // The per-instance results (float64 gaps, quantiles) come back byte for byte with the curve.
    const metrics = path.join('metrics', 'fista.json');
    expect(
      (JSON.parse(readFileSync(path.join(out.runDir, metrics), 'utf8')) as { perInstance?: { gaps: unknown[] } }).perInstance?.gaps.length,
    ).toBeGreaterThan(0);
    expect(readFileSync(path.join(exported, metrics)).equals(readFileSync(path.join(out.runDir, metrics)))).toBe(true);
    for (const f of filesOf(out.runDir)) {
      if (f === 'checksums.sha256') {
        // The manifest of what export wrote: the same checksum for each file that came back byte for byte.
        const sums = (dir: string) =>
          new Map(
            readFileSync(path.join(dir, f), 'utf8')
              .trim()
              .split('\n')
              .map((l) => l.split('  ').reverse() as [string, string]),
          );
        const [original, again] = [sums(out.runDir), sums(exported)];
        expect([...again.keys()]).toEqual([...original.keys()]);
        // config.json is written with sorted keys, by the run and by export alike.
        expect(again.get('config.json')).toBe(original.get('config.json'));
        for (const [name, sha] of original) {
          if (readFileSync(path.join(exported, name)).equals(readFileSync(path.join(out.runDir, name)))) expect(again.get(name), name).toBe(sha);
        }
      } else if (f === 'config.json' || f === 'summary.json' || f.endsWith('.json')) {
        expect(JSON.parse(readFileSync(path.join(exported, f), 'utf8')), f).toEqual(JSON.parse(readFileSync(path.join(out.runDir, f), 'utf8')));
      } else {
        expect(readFileSync(path.join(exported, f)).equals(readFileSync(path.join(out.runDir, f))), f).toBe(true);
      }
    }
    const off = runCli(
      ['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', path.join(temp, 'stored-runs'), '--store', 'off', '--json'],
      { env },
    );
    expect((JSON.parse(off.stdout) as { stored: unknown }).stored).toBeNull();
    expectOneLineError(runCli(['runs', 'list', '--store', 'off'], { env }).stderr, /The run store is off/);
  });

  it('runs import refuses a run edited since it was written (exit 1, nothing stored); --rederive stores it so list and show agree; an old run imports with a warning', () => {
    const store = { ...env, L2O_STORE: path.join(temp, 'checked-store') };
    const runs = path.join(temp, 'checked-runs');
    const r = runCli(['run', '--optimizer', 'fista', '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', runs, '--store', 'off', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const written = (JSON.parse(r.stdout) as { runDir: string }).runDir;
    const copy = (name: string) => {
      const dir = path.join(runs, name);
      cpSync(written, dir, { recursive: true });
      return dir;
    };
    // The run: its metrics file's last gap edited after the run was written.
    const edit = (dir: string) => {
      const file = path.join(dir, 'metrics', 'fista.json');
      const c = JSON.parse(readFileSync(file, 'utf8')) as { meanGap: number[] };
      c.meanGap[c.meanGap.length - 1] = 0.902;
      writeFileSync(file, JSON.stringify(c, null, 1));
    };
    const listAndShow = (id: string) => {
      const listed = JSON.parse(runCli(['runs', 'list', '--json'], { env: store }).stdout) as { id: string; optimizers: { finalGap: number }[] }[];
      const shown = JSON.parse(runCli(['runs', 'show', id, '--json'], { env: store }).stdout) as { curves: { fista: { meanGap: number[] } } };
      return { listed: listed.find((x) => x.id === id)!.optimizers[0]!.finalGap, shown: shown.curves.fista.meanGap.at(-1) };
    };

    const edited = copy('edited');
    edit(edited);
    // A valid command refused for what the run's files hold: a failure (1), not bad usage (2).
    const refused = runCli(['runs', 'import', written, edited], { env: store });
    expect(refused.code).toBe(1);
    expectOneLineError(refused.stderr, /^Error: \S*checked-runs\/edited: metrics\/fista\.json differs from its checksum in checksums\.sha256: .* --rederive/);
    // Nothing stored, not even the untouched run given with it.
    expect(runCli(['runs', 'list'], { env: store }).stdout).toBe('no runs\n');

    const rederived = runCli(['runs', 'import', edited, '--rederive'], { env: store });
    expect(rederived.code, rederived.stderr).toBe(0);
    expect(rederived.stderr).toMatch(/^warning: \S*edited: metrics\/fista\.json differs from its checksum in checksums\.sha256: storing it as it is now/);
    expect(listAndShow('edited')).toEqual({ listed: 0.902, shown: 0.902 });

    const untouched = runCli(['runs', 'import', written], { env: store });
    expect(untouched.code, untouched.stderr).toBe(0);
    expect(untouched.stderr).toBe('');

    // Written before runs had a manifest, and its summary disagreeing with its curve.
    const old = copy('old-run');
    rmSync(path.join(old, 'checksums.sha256'));
    edit(old);
    const imported = runCli(['runs', 'import', old], { env: store });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/^warning: \S*old-run has no checksums\.sha256 \(written before runs had one\): importing it unverified/);
    expect(listAndShow('old-run')).toEqual({ listed: 0.902, shown: 0.902 });

    // Exported, the run imports verified (under the export folder's name), with no warning.
    const exported = path.join(temp, 'checked-export');
    expect(runCli(['runs', 'export', 'edited', exported], { env: store }).code).toBe(0);
    const again = runCli(['runs', 'import', exported], { env: store });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(listAndShow('checked-export')).toEqual({ listed: 0.902, shown: 0.902 });
  });

  it('with neither --store nor L2O_STORE, l2o run stores its run in the default store ($XDG_DATA_HOME/l2o/store)', () => {
    const data = path.join(temp, 'xdg-data');
    const r = runCli(['run', '--optimizer', 'ista', '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', path.join(temp, 'default-runs'), '--json'], {
      env: { L2O_CACHE_DIR: env.L2O_CACHE_DIR, XDG_DATA_HOME: data },
      unset: ['L2O_STORE'],
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runDir: string; stored: { id: string; location: string } | null };
    expect(out.stored).toEqual({ id: path.basename(out.runDir), location: path.join(data, 'l2o', 'store') });
  });

  it('bad input is one line: a folder that is not a run, a bad date, an unreachable server', () => {
    const notRun = runCli(['runs', 'import', temp], { env });
    expect(notRun.code).toBe(1);
    expectOneLineError(notRun.stderr, /is not a run directory \(no summary\.json\)/);
    const badDate = runCli(['runs', 'list', '--since', 'yesterday'], { env });
    expect(badDate.code).toBe(2);
    expectOneLineError(badDate.stderr, /--since 'yesterday' is not a date/);
    const server = runCli(['runs', 'list', '--store', 'postgres://l2o:pw@127.0.0.1:1/l2o'], { env });
    expect(server.code).toBe(1);
    expectOneLineError(server.stderr, /^Error: Cannot reach the run store postgres:\/\/l2o:\*\*\*@127\.0\.0\.1:1\/l2o: ECONNREFUSED\./);
  });
});

describe('stored runs by their config and by id: runs list --where, runs compare, compare, report', () => {
  const store = path.join(temp, 'where-store');
  const storeEnv = { ...env, L2O_STORE: store };
  type Made = { id: string; dir: string };
  let a: Made, b: Made, c: Made;
  beforeAll(() => {
    const runsDir = path.join(temp, 'where-runs');
    [a, b, c] = [
      ['--optimizer', 'fista', '--seed', '1'],
      ['--optimizer', 'ista', '--seed', '2'],
      ['--optimizer', 'fista', '--seed', '2', '-k', '20'],
    ].map((flags) => {
      const r = runCli(['run', ...flags, '--problem', 'lasso', '--scale', 'smoke', '--runs-dir', runsDir, '--json'], { env: storeEnv });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { runDir: string; stored: { id: string } };
      return { id: out.stored.id, dir: out.runDir };
    }) as [Made, Made, Made];
  });
  const json = (args: string[]) => {
    const r = runCli([...args, '--json'], { env: storeEnv });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  };

  it("runs list --where: every key=value must hold in the run's config.json; a malformed one is a usage error", () => {
    const found = (...where: string[]) =>
      json(['runs', 'list', ...where.flatMap((w) => ['--where', w])])
        .map((x) => x.id as string)
        .sort();
    expect(found('seed=1')).toEqual([a.id]);
    expect(found('seed=2')).toEqual([b.id, c.id].sort());
    expect(found('seed=2', 'test.iterations=20')).toEqual([c.id]);
    expect(found('spec.optimizers.0.id=fista', 'spec.seed=2')).toEqual([c.id]);
    expect(found('seed=3')).toEqual([]);
    for (const bad of ['seed', '=1', 'training..seed=1']) {
      const r = runCli(['runs', 'list', '--where', bad], { env: storeEnv });
      expect(r.code, bad).toBe(2);
      expectOneLineError(r.stderr, new RegExp(`--where '${bad.replace(/\./g, '\\.')}' is not of the form <key>=<value>`));
    }
  });

  it('runs compare and compare <id>: the same rows and table as compare <dir>; an unknown id is one line', () => {
    const fromDirs = json(['compare', a.dir, b.dir, c.dir]);
    expect(fromDirs.map((row) => row.optimizer)).toEqual(['fista', 'ista']);
    expect(fromDirs[0]![a.id]).toBeGreaterThan(0);
    expect(json(['runs', 'compare', a.id, b.id, c.id])).toEqual(fromDirs);
    expect(json(['compare', a.id, b.dir, c.id])).toEqual(fromDirs);
    const table = runCli(['compare', a.dir, b.dir, c.dir], { env: storeEnv });
    expect(runCli(['runs', 'compare', a.id, b.id, c.id], { env: storeEnv }).stdout).toBe(table.stdout);
    const unknown = runCli(['runs', 'compare', a.id, 'no-such-run'], { env: storeEnv });
    expect(unknown.code).toBe(1);
    expectOneLineError(unknown.stderr, /No stored run has the id 'no-such-run'\. See `l2o runs list`/);
    const neither = runCli(['compare', a.dir, 'no-such-run'], { env: storeEnv });
    expect(neither.code).toBe(1);
    expectOneLineError(neither.stderr, /'no-such-run' is neither a run directory nor the id of a run stored in .*See `l2o runs list`/);
    const off = runCli(['compare', a.id, '--store', 'off'], { env: storeEnv });
    expect(off.code).toBe(1);
    expectOneLineError(off.stderr, /with the run store off/);
  });

  it('report <id> --out writes what report <dir> writes into the run directory; --out is required with an id', () => {
    const out = path.join(temp, 'where-report');
    const fromStore = runCli(['report', a.id, '--out', out, '--json'], { env: storeEnv });
    expect(fromStore.code, fromStore.stderr).toBe(0);
    expect((JSON.parse(fromStore.stdout) as { written: string[] }).written.sort()).toEqual(['convergence.png', 'convergence.svg', 'summary.md']);
    expect(runCli(['report', a.dir], { env: storeEnv }).code).toBe(0);
    for (const f of ['convergence.png', 'convergence.svg', 'summary.md']) {
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(a.dir, f))), f).toBe(true);
    }
    const noOut = runCli(['report', a.id], { env: storeEnv });
    expect(noOut.code).toBe(2);
    expectOneLineError(noOut.stderr, /is not a folder; to re-render the stored run with that id, give --out/);
    const missing = runCli(['report', 'no-such-run', '--out', out], { env: storeEnv });
    expect(missing.code).toBe(1);
    expectOneLineError(missing.stderr, /'no-such-run' is neither a run directory nor the id of a run stored in/);
  });
});
