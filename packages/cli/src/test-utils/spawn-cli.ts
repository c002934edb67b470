import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './run-cli.js';

const spawned: ChildProcess[] = [];

/** SIGKILLs every CLI process spawnCli started that is still running (for an afterEach). */
export function killSpawned(): void {
  for (const p of spawned.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** A CLI process running in the background (a worker, `sweep wait`): its output so far, a wait for a line, its exit. */
export function spawnCli(argv: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/cli/bin/run.js'), ...argv], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ? 128 : code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} from l2o ${argv[0]}; stderr:\n${stderr}`);
        await sleep(100);
      }
    },
    /** The exit code, or 'running' if it has not exited within timeoutMs. */
    exited: (timeoutMs: number) => Promise.race([exit, sleep(timeoutMs, 'running' as const)]),
  };
}
