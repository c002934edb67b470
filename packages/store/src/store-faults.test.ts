import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationCurve, RunSummary } from '@l2o/core';
import { openRunStore, storeWriter } from './open.js';
import type { RunRecord } from './run-store.js';

// Faults of real processes on a real embedded store (PGlite in a folder): the writers are other
// Node processes running the built @l2o/store, killed or holding the store while this one opens it.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-store-faults-'));
// The child scripts live here and import @l2o/store as the workspace resolves it.
symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(temp, 'node_modules'), 'dir');
const children = new Set<ChildProcessWithoutNullStreams>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

/**
 * The child: opens the store at argv[3] and
 * - `write`: saves the runs in the JSON files that follow, each in its own saveRun; says `writing`
 *   before the last one and `saved` after it.
 * - `stall`: as `write`, but the last run stalls inside its saveRun's transaction, after its runs,
 *   optimizer and curve rows were inserted (reading its artifacts blocks), having said `inside`.
 * - `hold`: saves the runs given, says `open` and keeps the store open until its stdin ends.
 * Then it closes the store and says `closed`.
 */
const CHILD = `
import { readFileSync, writeSync } from 'node:fs';
import { openRunStore } from '@l2o/store';
const [mode, dir, ...files] = process.argv.slice(2);
const say = (line) => writeSync(1, line + '\\n');
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const store = await openRunStore(dir);
if (mode === 'hold') {
  for (const run of runs) await store.saveRun(run);
  say('open');
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
} else {
  const last = runs.pop();
  for (const run of runs) {
    await store.saveRun(run);
    say('committed ' + run.id);
  }
  if (mode === 'stall') {
    Object.defineProperty(last.artifacts, 'zz-stall.txt', {
      enumerable: true,
      get() {
        say('inside');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
        process.exit(3); // never killed: leave without committing
      },
    });
  }
  say('writing');
  await store.saveRun(last);
  say('saved');
}
await store.close();
say('closed');
`;
const script = path.join(temp, 'writer.mjs');
writeFileSync(script, CHILD);

interface Child {
  process: ChildProcessWithoutNullStreams;
  /** Resolves when stdout has printed `line` (rejects if the child ends first). */
  said(line: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code, or the signal that ended it. */
  ended: Promise<number | NodeJS.Signals | null>;
  stdout(): string;
  stderr(): string;
}

function startChild(mode: 'write' | 'stall' | 'hold', dir: string, runs: RunRecord[]): Child {
  const files = runs.map((run) => {
    const file = path.join(temp, `${run.id}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(run));
    return file;
  });
  const child = spawn(process.execPath, [script, mode, dir, ...files], { cwd: temp, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ended = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const said = (line: string, timeoutMs = 45_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (out.split('\n').includes(line)) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          resolve();
        }
      };
      const timer = setTimeout(() => reject(new Error(`the writer did not say '${line}' in ${timeoutMs} ms:\n${out}\n${err}`)), timeoutMs);
      child.stdout.on('data', check);
      void ended.then((how) => {
        clearTimeout(timer);
        if (!out.split('\n').includes(line)) reject(new Error(`the writer ended (${how}) before it said '${line}':\n${out}\n${err}`));
      });
      check();
    });
  return { process: child, said, ended, stdout: () => out, stderr: () => err };
}

/** A run of `optimizers` baselines with curves of `iterations` + 1 points each: big runs are slow to store. */
function bigRun(id: string, optimizers: number, iterations: number): RunRecord {
  const curves: EvaluationCurve[] = Array.from({ length: optimizers }, (_, i) => {
    const meanF = Array.from({ length: iterations + 1 }, (_, k) => 1 / (k + 1) + i);
    const meanGap = meanF.map((f) => f / 2);
    return {
      optimizer: `opt${i}`,
      instances: 8,
      gapInstances: 8,
      meanF,
      meanGap,
      finalGap: meanGap[iterations]!,
      iterationsTo: {},
      divergedAt: null,
      seconds: 1,
    };
  });
  const summary: RunSummary = {
    name: id,
    problem: { id: 'lasso', options: {} },
    trainDataset: { id: 'synthetic', options: {} },
    testDataset: { id: 'synthetic', options: {} },
    testInstances: 8,
    iterations,
    scale: 'smoke',
    seed: 0,
    engine: 'wasm',
    training: {},
    optimizers: curves.map((c) => ({
      label: c.optimizer,
      id: 'fista',
      kind: 'baseline',
      options: {},
      finalGap: c.finalGap,
      finalF: c.meanF[iterations]!,
      iterationsTo: {},
      divergedAt: null,
      evaluationSeconds: 1,
    })),
    createdAt: new Date().toISOString(),
  };
  return { id, summary, spec: { name: id }, curves, checkpoints: {}, artifacts: { 'summary.md': `# ${id}\n` }, versions: {} };
}

/** Every curve of the stored run has all its points, or the run is not there at all: never a part of it. */
async function expectAllOrNothing(dir: string, run: RunRecord): Promise<'stored' | 'absent'> {
  const store = await openRunStore(dir);
  try {
    const stored = await store.getRun(run.id);
    const listed = (await store.listRuns()).map((r) => r.id);
    if (stored === null) {
      expect(listed).not.toContain(run.id);
      expect(await store.curves(run.id)).toEqual({});
      return 'absent';
    }
    expect(listed).toContain(run.id);
    expect(stored.summary.optimizers).toHaveLength(run.summary.optimizers.length);
    expect(stored.curves.map((c) => [c.optimizer, c.meanF.length])).toEqual(run.curves.map((c) => [c.optimizer, c.meanF.length]));
    return 'stored';
  } finally {
    await store.close();
  }
}

const lockFile = (dir: string) => path.join(dir, 'l2o-store.lock');
const lockHolder = (dir: string) => JSON.parse(readFileSync(lockFile(dir), 'utf8')) as { pid: number; command: string };

describe('a writer killed with SIGKILL in the middle of a run', () => {
  it('inside the transaction: the store opens (the dead writer’s lock is taken over), without that run; it is stored once after', async () => {
    const dir = path.join(temp, 'killed-inside');
    const before = bigRun('before', 2, 50);
    const seed = await openRunStore(dir);
    await seed.saveRun(before);
    await seed.close();

    const committed = bigRun('committed', 3, 500);
    const killed = bigRun('killed', 6, 2000);
    const child = startChild('stall', dir, [committed, killed]);
    await child.said('inside');
    expect(child.stdout()).toBe('committed committed\nwriting\ninside\n');
    child.process.kill('SIGKILL');
    expect(await child.ended).toBe('SIGKILL');
    // The dead writer's lock is left behind, naming it.
    expect(lockHolder(dir).pid).toBe(child.process.pid);

    const store = await openRunStore(dir, { waitForLockMs: 0 });
    try {
      expect(lockHolder(dir).pid).toBe(process.pid); // taken over
      expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(['before', 'committed']);
      expect(await store.getRun('killed')).toBeNull();
      expect(await store.curves('killed')).toEqual({});
      // What was committed before the kill is whole.
      const kept = await store.getRun('committed');
      expect(kept!.curves.map((c) => c.meanF)).toEqual(committed.curves.map((c) => c.meanF));
      // The killed run, stored again: once.
      expect(await store.saveRun(killed)).toEqual({ id: 'killed', created: true });
      expect(await store.saveRun(killed)).toEqual({ id: 'killed', created: false });
      const again = await store.getRun('killed');
      expect(again!.curves.map((c) => c.meanGap)).toEqual(killed.curves.map((c) => c.meanGap));
      expect(Object.keys(again!.artifacts)).toEqual(['summary.md']);
    } finally {
      await store.close();
    }
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  it('at any moment of a long saveRun: the run is whole or absent, never a part, and the store still takes it', async () => {
    const dir = path.join(temp, 'killed-timed');
    const outcomes: string[] = [];
    // Several kills into one store, each at another point of a saveRun that takes seconds
    // (8 curves of 15,001 points, one INSERT each).
    for (const [i, delayMs] of [150, 700, 1500].entries()) {
      const run = bigRun(`timed-${i}`, 8, 15_000);
      const child = startChild('write', dir, [run]);
      await child.said('writing');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const finished = child.stdout().includes('saved');
      child.process.kill('SIGKILL');
      await child.ended;
      const outcome = await expectAllOrNothing(dir, run);
      outcomes.push(`${delayMs} ms: ${finished ? 'after saveRun' : 'during saveRun'}, ${outcome}`);
      // Killed before saveRun returned and absent, or whole: either way it can be stored (once).
      const store = await openRunStore(dir);
      try {
        expect((await store.saveRun(run)).created).toBe(outcome === 'absent');
        expect((await store.saveRun(run)).created).toBe(false);
      } finally {
        await store.close();
      }
    }
    console.info(`SIGKILL during saveRun: ${outcomes.join('; ')}`);
    // The kills did land inside saveRun (else this test proves nothing).
    expect(outcomes.some((o) => o.includes('during saveRun'))).toBe(true);
    const store = await openRunStore(dir);
    expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(['timed-0', 'timed-1', 'timed-2']);
    await store.close();
  });
});

describe('several processes and one embedded store', () => {
  it('a second opener is refused in one line naming the holder, or waits for it when asked to', async () => {
    const dir = path.join(temp, 'held');
    const held = bigRun('held', 2, 10);
    const holder = startChild('hold', dir, [held]);
    await holder.said('open');
    const pid = holder.process.pid!;
    expect(lockHolder(dir)).toMatchObject({ pid, command: expect.stringContaining(`${script} hold ${dir}`) });

    // No wait (the default), and a short one: refused, naming the holder's pid and command.
    for (const waitForLockMs of [0, 800]) {
      const started = Date.now();
      const refused = await openRunStore(dir, { waitForLockMs }).then(
        async (s) => (await s.close(), null),
        (e: Error) => e,
      );
      const took = Date.now() - started;
      expect(refused).toBeInstanceOf(Error);
      expect(refused!.name).toBe('L2oError');
      expect(refused!.message).not.toMatch(/\n/);
      expect(refused!.message).toMatch(new RegExp(`^The run store ${dir} is open in process ${pid} \\(.*writer\\.mjs hold .*held.*\\) since \\d{4}-`));
      expect((refused as Error & { hint?: string }).hint).toMatch(/one writer at a time/);
      expect(took).toBeGreaterThanOrEqual(waitForLockMs);
      expect(took).toBeLessThan(waitForLockMs + 10_000);
    }
    // The holder's store is untouched by the refused openers.
    expect(lockHolder(dir).pid).toBe(pid);

    // With a longer wait: stored as soon as the holder closes (storeWriter, as `l2o run` stores).
    const run = bigRun('waited', 2, 10);
    const started = Date.now();
    const saving = storeWriter(dir, { versions: { '@l2o/test': '1' } }).saveRun(run);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(lockHolder(dir).pid).toBe(pid); // still waiting
    holder.process.stdin.end('close\n');
    await holder.said('closed');
    expect(await holder.ended).toBe(0);
    expect(await saving).toEqual({ id: 'waited', created: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(existsSync(lockFile(dir))).toBe(false);

    // And openRunStore with waitForLockMs behaves the same against a new holder.
    const second = startChild('hold', dir, []);
    await second.said('open');
    const opening = openRunStore(dir, { waitForLockMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    second.process.stdin.end('close\n');
    const store = await opening;
    try {
      expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(['held', 'waited']);
      expect((await store.getRun('waited'))!.versions).toEqual({ '@l2o/test': '1' });
    } finally {
      await store.close();
    }
    expect(await second.ended).toBe(0);
  });
});

describe('several writer processes at once', () => {
  it('every one waits for the store and stores its run: none fails, none is lost', async () => {
    const dir = path.join(temp, 'crowd');
    const writer = path.join(temp, 'crowd-writer.mjs');
    // What `l2o run` does after a run: storeWriter waits for the store (up to 2 min) and saves.
    writeFileSync(
      writer,
      `import { readFileSync } from 'node:fs';
import { storeWriter } from '@l2o/store';
const [dir, file] = process.argv.slice(2);
await storeWriter(dir, { versions: {} }).saveRun(JSON.parse(readFileSync(file, 'utf8')));
`,
    );
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const results = await Promise.all(
      ids.map((id) => {
        const file = path.join(temp, `crowd-${id}.json`);
        writeFileSync(file, JSON.stringify(bigRun(id, 2, 50)));
        const child = spawn(process.execPath, [writer, dir, file], { cwd: temp });
        children.add(child);
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += String(d)));
        return new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
      }),
    );
    expect(results).toEqual(ids.map(() => ({ code: 0, stderr: '' })));
    const store = await openRunStore(dir);
    try {
      expect((await store.listRuns()).map((r) => r.id).sort()).toEqual(ids);
    } finally {
      await store.close();
    }
    expect(existsSync(path.join(dir, 'l2o-store.lock'))).toBe(false);
  }, 180_000);
});
