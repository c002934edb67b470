import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRunStore, SCHEMA_VERSION, type Sql } from '@l2o/store';
import { REPO_ROOT, expectOneLineError, runCli, type CliResult } from './test-utils/run-cli.js';

// What `l2o run` and `l2o runs …` say when the run store cannot be used: one line, exit 1, and
// for `l2o run` the run directory is kept with the command that stores it later. Real stores
// (PGlite folders), real processes holding them, real sockets; nothing mocked.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-store-errors-'));
chmodSync(temp, 0o777); // the read-only case runs the CLI as an unprivileged user when we are root
const at = (...parts: string[]) => path.join(temp, ...parts);
const cache = at('cache');
const env = { L2O_CACHE_DIR: cache };
// Processes holding a store import the built @l2o/store as the workspace resolves it.
symlinkSync(path.join(REPO_ROOT, 'node_modules'), at('node_modules'), 'dir');
const children = new Set<ChildProcessWithoutNullStreams>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

const smokeRun = (runsDir: string, store: string, cacheDir = cache) => [
  'run',
  '--optimizer',
  'fista',
  '--problem',
  'lasso',
  '--scale',
  'smoke',
  '--cache-dir',
  cacheDir,
  '--runs-dir',
  runsDir,
  '--store',
  store,
];

/** Exit 1, one error line matching `pattern`; how long it took, for the report. */
function expectStoreError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expectOneLineError(r.stderr, pattern);
}

function timed(fn: () => CliResult): CliResult & { ms: number } {
  const started = Date.now();
  const r = fn();
  return { ...r, ms: Date.now() - started };
}

const runDirs = (dir: string) => (existsSync(dir) ? readdirSync(dir).map((d) => path.join(dir, d)) : []);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const listIds = (store: string) => {
  const r = runCli(['runs', 'list', '--store', store, '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }[]).map((x) => x.id);
};

/**
 * A process holding the embedded store at argv[3] open (as `l2o run` does while it stores a run):
 * `hold` until its stdin ends; `hold-until` until a run directory (with summary.json) appears in
 * argv[4], then argv[5] ms more. It says `open`, then `closed <epoch ms>` once it has closed it.
 */
const HOLDER = `
import { existsSync, readdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openRunStore } from '@l2o/store';
const [mode, dir, runsDir, afterMs] = process.argv.slice(2);
const say = (line) => writeSync(1, line + '\\n');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const store = await openRunStore(dir);
say('open');
if (mode === 'hold') {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
} else {
  const written = () => existsSync(runsDir) && readdirSync(runsDir).some((d) => existsSync(path.join(runsDir, d, 'summary.json')));
  for (let waited = 0; !written(); waited += 100) {
    if (waited > 120000) process.exit(4);
    await sleep(100);
  }
  say('saw the run directory');
  await sleep(Number(afterMs));
}
await store.close();
say('closed ' + Date.now());
`;
const holderScript = at('holder.mjs');
writeFileSync(holderScript, HOLDER);

function startHolder(argv: string[]) {
  const child = spawn(process.execPath, [holderScript, ...argv], { cwd: temp, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the holder did not open the store:\n${out}\n${err}`)), 45_000);
    child.stdout.on('data', () => {
      if (out.startsWith('open\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void ended.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the holder ended (${code}) before it opened the store:\n${out}\n${err}`));
    });
  });
  return { child, opened, ended, stdout: () => out, stderr: () => err };
}

// One run directory, written without a store, that the tests import.
let runDir = '';
beforeAll(() => {
  const r = runCli(smokeRun(at('runs'), 'off'), { env });
  expect(r.code, r.stderr).toBe(0);
  [runDir] = runDirs(at('runs')) as [string];
});

describe('an embedded store held by another process', () => {
  it('l2o runs rm / import: one line naming the holder, exit 1, nothing changed; they work once it has closed', async () => {
    const store = at('held-store');
    expect(runCli(['runs', 'import', runDir, '--store', store], { env }).code).toBe(0);
    const id = path.basename(runDir);
    const holder = startHolder(['hold', store]);
    await holder.opened;
    const pid = holder.child.pid!;
    const named = new RegExp(
      `^Error: The run store ${esc(store)} is open in process ${pid} \\(${esc(holderScript)} hold ${esc(store)}\\) since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\. ` +
        'An embedded store has one writer at a time: wait for it, or share a PostgreSQL server between processes \\(--store postgres://…\\)\\.$',
    );
    const rm = timed(() => runCli(['runs', 'rm', id, '--store', store], { env }));
    expectStoreError(rm, named);
    const imported = timed(() => runCli(['runs', 'import', runDir, '--store', store], { env }));
    expectStoreError(imported, named);
    const listed = timed(() => runCli(['runs', 'list', '--store', store], { env }));
    expectStoreError(listed, named);
    console.info(`held store refused in ${rm.ms} / ${imported.ms} / ${listed.ms} ms (rm / import / list)`);
    // No waiting (the runs commands do not wait): refused at once.
    expect(Math.max(rm.ms, imported.ms, listed.ms)).toBeLessThan(20_000);

    holder.child.stdin.end();
    expect(await holder.ended).toBe(0);
    expect(existsSync(path.join(store, 'l2o-store.lock'))).toBe(false);
    expect(listIds(store)).toEqual([id]); // the refused rm deleted nothing
    const deleted = runCli(['runs', 'rm', id, '--store', store], { env });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(listIds(store)).toEqual([]);
  });

  it('l2o run waits for the holder and stores its run once the holder has closed', async () => {
    const store = at('busy-store');
    const runs = at('busy-runs');
    const holder = startHolder(['hold-until', store, runs, '2000']);
    await holder.opened;
    const r = runCli([...smokeRun(runs, store), '--json'], { env });
    const finished = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect(await holder.ended).toBe(0);
    // The holder had the store when the run directory was written, and kept it 2 s more.
    expect(holder.stdout()).toMatch(/^open\nsaw the run directory\nclosed \d+\n$/);
    const closedAt = Number(/closed (\d+)/.exec(holder.stdout())![1]);
    expect(finished).toBeGreaterThanOrEqual(closedAt);
    const out = JSON.parse(r.stdout) as { runDir: string; stored: { id: string; location: string } | null };
    expect(out.stored).toEqual({ id: path.basename(out.runDir), location: store });
    expect(listIds(store)).toEqual([out.stored!.id]);
  });
});

describe('a store that cannot be used: one line, exit 1', () => {
  it('read-only (as an unprivileged user): l2o run keeps its run directory and says how to store it later', () => {
    const store = at('ro-store');
    expect(runCli(['runs', 'import', runDir, '--store', store], { env }).code).toBe(0);
    const home = at('ro-home');
    const runs = path.join(home, 'runs');
    mkdirSync(runs, { recursive: true });
    chmodSync(home, 0o777);
    chmodSync(runs, 0o777);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    expect(spawnSync('chmod', ['-R', 'a-w', store]).status).toBe(0);
    try {
      const r = runCli(smokeRun(runs, store, path.join(home, 'cache')), { ...asUser, env: { HOME: home, XDG_CACHE_HOME: home }, cwd: home });
      expectStoreError(
        r,
        new RegExp(
          `^Error: The run is in (${esc(runs)}/[^ ]+) but could not be stored in ${esc(store)}: The run store ${esc(store)} cannot be written by this user \\(EACCES\\)\\. Store it later with: l2o runs import \\1$`,
        ),
      );
      const [written] = runDirs(runs);
      expect(existsSync(path.join(written!, 'summary.json'))).toBe(true);
      expect(r.stderr).toContain(`l2o runs import ${written}\n`);
      // The store is as it was: no lock left behind, its one run still there.
      expect(existsSync(path.join(store, 'l2o-store.lock'))).toBe(false);
    } finally {
      spawnSync('chmod', ['-R', 'u+w', store]);
    }
    // The hint works: once the store is writable, the kept run directory is imported.
    const [written] = runDirs(runs);
    const imported = runCli(['runs', 'import', written!, '--store', store], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(listIds(store).sort()).toEqual([path.basename(runDir), path.basename(written!)].sort());
  });

  it('read-only for the runs commands (as an unprivileged user): one line saying so, not an unexpected error', () => {
    const store = at('ro-store-list');
    expect(runCli(['runs', 'import', runDir, '--store', store], { env }).code).toBe(0);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    expect(spawnSync('chmod', ['-R', 'a-w', store]).status).toBe(0);
    try {
      const r = runCli(['runs', 'list', '--store', store], { ...asUser, env: { HOME: temp }, cwd: temp });
      expectStoreError(r, new RegExp(`^Error: The run store ${esc(store)} cannot be written by this user \\(EACCES\\)\\.`));
    } finally {
      spawnSync('chmod', ['-R', 'u+w', store]);
    }
  });

  it('a malformed server URL: one line naming it, not an unexpected error', () => {
    for (const url of ['postgres://:99999999/x', 'postgres://host:abc/db']) {
      expectStoreError(
        runCli(['runs', 'list', '--store', url], { env }),
        new RegExp(`^Error: Cannot reach the run store ${esc(url)}: it is not a valid URL\\.`),
      );
    }
  });

  it('of a newer schema: refused naming both versions, the store left as it is, the run directory kept', async () => {
    const store = at('newer-store');
    expect(runCli(['runs', 'import', runDir, '--store', store], { env }).code).toBe(0);
    const opened = await openRunStore(store);
    // As a later l2o would record its migration.
    await (opened as unknown as { sql: Sql }).sql.query('INSERT INTO l2o_schema (version, name) VALUES ($1, $2)', [SCHEMA_VERSION + 1, 'from the future']);
    await opened.close();

    const versions = `has schema version ${SCHEMA_VERSION + 1}, newer than this l2o knows \\(${SCHEMA_VERSION}\\)\\.`;
    for (const argv of [
      ['runs', 'list'],
      ['runs', 'import', runDir],
      ['runs', 'rm', path.basename(runDir)],
    ]) {
      const r = runCli([...argv, '--store', store], { env });
      expectStoreError(r, new RegExp(`^Error: The run store ${esc(store)} ${versions} Upgrade l2o, or give another --store\\.$`));
      expect(existsSync(path.join(store, 'l2o-store.lock')), argv.join(' ')).toBe(false);
    }
    const runs = at('newer-runs');
    const r = runCli(smokeRun(runs, store), { env });
    expectStoreError(
      r,
      new RegExp(
        `^Error: The run is in (${esc(runs)}/[^ ]+) but could not be stored in ${esc(store)}: The run store ${esc(store)} ${versions} Store it later with: l2o runs import \\1$`,
      ),
    );
    expect(runDirs(runs)).toHaveLength(1);
    // Still refused: nothing was migrated down or rewritten.
    await expect(openRunStore(store)).rejects.toThrow(new RegExp(versions));
  });

  it('an unreachable server: refused connections and a server that never answers, quickly, the password never shown', async () => {
    const refused = 'postgres://l2o:secret@127.0.0.1:1/l2o';
    const shown = 'postgres://l2o:\\*\\*\\*@127\\.0\\.0\\.1:1/l2o';
    const hint = 'Check the URL and that the PostgreSQL server runs and accepts connections from this machine\\.';
    const imported = timed(() => runCli(['runs', 'import', runDir, '--store', refused], { env }));
    expectStoreError(imported, new RegExp(`^Error: Cannot reach the run store ${shown}: ECONNREFUSED\\. ${hint}$`));
    expect(imported.stderr).not.toContain('secret');

    const runs = at('unreachable-runs');
    const run = timed(() => runCli(smokeRun(runs, refused), { env }));
    expectStoreError(
      run,
      new RegExp(
        `^Error: The run is in (${esc(runs)}/[^ ]+) but could not be stored in ${shown}: Cannot reach the run store ${shown}: ECONNREFUSED\\. Store it later with: l2o runs import \\1$`,
      ),
    );
    expect(run.stderr).not.toContain('secret');
    expect(existsSync(path.join(runDirs(runs)[0]!, 'summary.json'))).toBe(true);

    // A server that accepts the connection and never answers: the connect timeout ends the wait.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const hung = timed(() => runCli(['runs', 'list', '--store', `postgres://l2o:secret@127.0.0.1:${port}/l2o`], { env }));
      expectStoreError(
        hung,
        new RegExp(`^Error: Cannot reach the run store postgres://l2o:\\*\\*\\*@127\\.0\\.0\\.1:${port}/l2o: timeout expired\\. ${hint}$`),
      );
      expect(hung.stderr).not.toContain('secret');
      console.info(
        `unreachable server: refused in ${imported.ms} ms (runs import), ${run.ms} ms (l2o run, smoke run included); silent server in ${hung.ms} ms`,
      );
      expect(imported.ms).toBeLessThan(15_000);
      expect(hung.ms).toBeLessThan(30_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
