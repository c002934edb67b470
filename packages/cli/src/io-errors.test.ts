import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './test-utils/run-cli.js';

// I/O errors name the path, the cause and the next step: a full disk (a real tmpfs of a few MB
// holding the store, the runs folder or the cache), a corrupt store, a store path that is a file,
// a --since the store cannot compare. One line each, no stack trace, no "unexpected".
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-io-errors-'));
const at = (...parts: string[]) => path.join(temp, ...parts);
const env = { L2O_CACHE_DIR: at('cache') };
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const smokeRun = (optimizer: string, runsDir: string, cacheDir: string, store = 'off') => [
  'run',
  '--optimizer',
  optimizer,
  '--problem',
  'lasso',
  '--scale',
  'smoke',
  '--runs-dir',
  runsDir,
  '--cache-dir',
  cacheDir,
  '--store',
  store,
];
const runDirs = (dir: string) => (existsSync(dir) ? readdirSync(dir).map((d) => path.join(dir, d)) : []);

/** Mounts a tmpfs of `size` at `dir`; why it cannot, when it cannot (tests are then skipped). */
function mountTmpfs(dir: string, size: string): string | null {
  if (process.getuid?.() !== 0) return 'not root: a tmpfs cannot be mounted';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}`;
}
const mounted: string[] = [];
afterAll(() => {
  for (const dir of mounted) if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  rmSync(temp, { recursive: true, force: true });
});

/** Fills the device holding `dir` until `leaveBytes` are left (0: until a write fails). */
function fill(dir: string, leaveBytes = 0): void {
  const { bavail, bsize } = statfsSync(dir);
  const fd = openSync(path.join(dir, `filler-${Math.random().toString(36).slice(2)}`), 'w');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    for (let left = bavail * bsize - leaveBytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    if (leaveBytes === 0) for (;;) writeSync(fd, chunk); // tmpfs rounds: write until it is refused
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

// Two run directories, written without a store, with the test set cached: the runs to store.
let runs: string[] = [];
beforeAll(() => {
  for (const optimizer of ['fista', 'ista']) {
    const r = runCli(smokeRun(optimizer, at('runs'), at('cache')), { env });
    expect(r.code, r.stderr).toBe(0);
  }
  runs = runDirs(at('runs')).sort();
  expect(runs).toHaveLength(2);
});

const full = at('full');
const skipFull = mountTmpfs(full, '4m');
if (skipFull) console.warn(`io-errors: the full-disk tests are skipped: ${skipFull}`);
else mounted.push(full);

describe.skipIf(skipFull !== null)('a full disk (a 4 MB tmpfs)', () => {
  /** The line for a full disk, `where` a pattern of the path it names. */
  const noSpace = (where: string) =>
    new RegExp(
      `^Error: No space left on the device holding ${where} \\(ENOSPC\\)\\. Free space there, or use --runs-dir, --cache-dir or --store elsewhere\\.$`,
    );

  it('a new store there: one line naming the store and ENOSPC, no half-made database left', () => {
    // Room for the lock file but not for a database (which takes tens of MB).
    fill(full, 1024 * 1024);
    const store = path.join(full, 'store');
    const r = runCli(['runs', 'list', '--store', store], { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(
      r.stderr,
      new RegExp(
        `^Error: The run store ${esc(store)} cannot be used: No space left on the device holding ${esc(store)} \\(ENOSPC\\)\\. Free space there, or give --store \\(L2O_STORE\\) a folder on another device\\.$`,
      ),
    );
    expect(readdirSync(store)).toEqual([]); // no pgdata, no lock
  });

  it('the runs folder there: one line naming the run directory, nothing half-written', () => {
    fill(full);
    const runsDir = path.join(full, 'runs');
    const r = runCli(smokeRun('fista', runsDir, at('cache')), { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(r.stderr, noSpace(`${esc(runsDir)}/[^ ]+-fista-lasso-synthetic`));
    expect(readdirSync(runsDir)).toEqual([]); // no temporary folder left
  });

  it('the cache folder there: one line naming the cached test set, no run written', () => {
    fill(full);
    const cacheDir = path.join(full, 'cache');
    const runsDir = at('cache-full-runs');
    const r = runCli(smokeRun('fista', runsDir, cacheDir), { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(r.stderr, noSpace(`${esc(cacheDir)}/testsets/[^ ]+`));
    expect(runDirs(runsDir)).toEqual([]);
    expect(readdirSync(path.join(cacheDir, 'testsets'))).toEqual([]); // no temporary folder left
  });
});

// An existing store (tens of MB) on a device that fills up: storing one more run fails naming it.
const roomy = at('roomy');
const skipRoomy = skipFull ?? mountTmpfs(roomy, '64m');
if (!skipFull && skipRoomy) console.warn(`io-errors: the full-store test is skipped: ${skipRoomy}`);
else if (!skipRoomy) mounted.push(roomy);

describe.skipIf(skipRoomy !== null)('an existing store on a device that fills up', () => {
  it('l2o runs import: one line naming the store and the full disk', () => {
    const store = path.join(roomy, 'store');
    expect(runCli(['runs', 'import', runs[0]!, '--store', store], { env }).code).toBe(0);
    fill(roomy, 8 * 1024);
    const line = `The run store ${esc(store)} cannot be written: no space left on the device holding it \\(could not extend file "[^"]+": No space left on device\\)\\.`;
    const r = runCli(['runs', 'import', runs[1]!, '--store', store], { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(r.stderr, new RegExp(`^Error: ${line} Free space there, or give --store \\(L2O_STORE\\) a folder on another device\\.$`));
  });
});

describe('a corrupt or misplaced store', () => {
  it('a truncated write-ahead log: one line saying the store is corrupt, with what to do', () => {
    const store = at('store');
    const imported = runCli(['runs', 'import', runs[0]!, '--store', store], { env });
    expect(imported.code, imported.stderr).toBe(0);
    const wal = path.join(store, 'pgdata', 'pg_wal');
    const [segment] = readdirSync(wal).filter((f) => /^[0-9A-F]{24}$/.test(f));
    truncateSync(path.join(wal, segment!), 1000);
    const r = runCli(['runs', 'list', '--store', store], { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(
      r.stderr,
      new RegExp(
        `^Error: The run store ${esc(store)} is corrupt: PostgreSQL cannot use its files in ${esc(path.join(store, 'pgdata'))} \\(a truncated or missing write-ahead log or data file, e\\.g\\. after a crash or a full disk\\)\\. ` +
          `Restore the folder from a backup, or move it aside \\(mv ${esc(store)} ${esc(store)}\\.corrupt\\) and store the runs again: l2o runs import <run directories>\\.$`,
      ),
    );
    expect(existsSync(path.join(store, 'l2o-store.lock'))).toBe(false);
  });

  it('a store path that is a file, or under one: one line naming the file', () => {
    const file = at('not-a-folder');
    writeFileSync(file, 'x');
    const hint = 'Give --store \\(L2O_STORE\\) a folder you can write to: a new one, or one that holds an l2o store\\.';
    const r = runCli(['runs', 'list', '--store', file], { env });
    expect(r.code, r.stderr).toBe(1);
    expectOneLineError(
      r.stderr,
      new RegExp(`^Error: The run store ${esc(file)} cannot be used: ${esc(file)} is a file, not a folder \\(EEXIST\\)\\. ${hint}$`),
    );
    const under = path.join(file, 'store');
    const r2 = runCli(['runs', 'list', '--store', under], { env });
    expect(r2.code, r2.stderr).toBe(1);
    expectOneLineError(
      r2.stderr,
      new RegExp(
        `^Error: The run store ${esc(under)} cannot be used: ${esc(under)} cannot be created: ${esc(file)} is a file, not a folder \\(ENOTDIR\\)\\. ${hint}$`,
      ),
    );
  });
});

describe('l2o runs list --since', () => {
  it('a date the store cannot compare: exit 2 naming the flag, before the store is opened', () => {
    const store = at('since-store');
    for (const since of ['99999-01-01', '0000-01-01', 'Dec 5 2026']) {
      const r = runCli(['runs', 'list', '--store', store, '--since', since], { env });
      expect(r.code, r.stderr).toBe(2);
      expectOneLineError(
        r.stderr,
        new RegExp(`^Error: --since '${esc(since)}' is not a date from year 1 to 9999\\. Give YYYY-MM-DD or an ISO time, e\\.g\\. --since 2026-11-01\\.$`),
      );
    }
    expect(existsSync(store)).toBe(false);
  });
});
