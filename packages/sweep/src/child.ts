// Sweep jobs run in child processes: each is its own single-threaded WASM engine, a job that
// crashes takes only its process down, and a cancelled or abandoned job is stopped by killing it.
import { fork } from 'node:child_process';
import path from 'node:path';
import { InterruptedError, L2oError, stopSignalOf, UsageError, workerPlatformOf, type EngineRequest, type Platform, type StopSignal } from '@l2o/core';
import type { SweepJob } from './plan.js';

/** What a job process boots: the engine and plugins of the process that started it, and its folders. */
export interface ChildPlatform {
  engine: EngineRequest;
  searchFrom: string[];
  pluginPaths: string[];
  dataDir?: string;
  cacheDir: string;
  allowDownload: boolean;
  /** The parent's commit: a training's sessions record it. */
  gitCommit?: string;
}

/** Progress of a job: building the test set, training (global steps) or evaluating (batches). */
export interface JobProgress {
  phase: 'test-set' | 'train' | 'evaluate';
  done: number;
  total: number;
  validation?: number;
}

export type ComputeJob = Extract<SweepJob, { kind: 'train' | 'evaluate' }>;

/** `stop`: the signal the sweep received, which the job's interruption names. */
export type ToChild = { type: 'run'; job: ComputeJob; platform: ChildPlatform } | { type: 'stop'; signal?: StopSignal };
export type FromChild =
  { type: 'progress'; progress: JobProgress } | { type: 'result'; value: unknown } | { type: 'error'; message: string; hint?: string; exitCode: number };

/** A job's process ended without reporting a result or an error (crashed, killed, out of memory). */
export class JobProcessDied extends L2oError {}

/** The job process's entry: the built sibling .js (under vitest, src/ runs and the built copy is used). */
function entry(): URL {
  if (import.meta.url.endsWith('.ts')) return new URL('../dist/job-process.js', import.meta.url);
  return new URL('./job-process.js', import.meta.url);
}

export interface ChildControls {
  onProgress?: (p: JobProgress) => void;
  /** Aborted: the job stops at its next safe point (a training saves its resume state). */
  stop?: AbortSignal;
  /** Aborted: the job's process is killed at once (a cancelled sweep). */
  kill?: AbortSignal;
}

/** Runs a training or evaluation job in a new process and resolves with its result. */
export function runInChild(job: ComputeJob, platform: ChildPlatform, controls: ChildControls = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // One job, one core: V8's helper threads (concurrent compilation and GC) would otherwise take
    // a tenth of another core, which a sibling job needs (two jobs side by side ran 13% slower each).
    const child = fork(entry(), [], { serialization: 'advanced', stdio: ['ignore', 'pipe', 'inherit', 'ipc'], execArgv: ['--single-threaded'] });
    // Its stdout goes to stderr: a command's stdout is its result.
    child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    let settled: FromChild | null = null;
    const stop = () => child.connected && child.send({ type: 'stop', signal: stopSignalOf(controls.stop!) } satisfies ToChild);
    const kill = () => child.kill('SIGKILL');
    controls.stop?.addEventListener('abort', stop, { once: true });
    controls.kill?.addEventListener('abort', kill, { once: true });
    child.on('message', (m: FromChild) => {
      if (m.type === 'progress') controls.onProgress?.(m.progress);
      else settled = m;
    });
    child.on('error', (e) => {
      // A process that never started emits no 'exit': fail here, or the job would wait forever.
      if (child.pid === undefined) reject(new L2oError(`could not start a job process: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      controls.stop?.removeEventListener('abort', stop);
      controls.kill?.removeEventListener('abort', kill);
      const result: FromChild | null = settled;
      if (result?.type === 'result') return resolve(result.value);
      if (result?.type === 'error') {
        if (result.exitCode === 2) return reject(new UsageError(result.message, result.hint));
        if (result.exitCode === 130 || result.exitCode === 143)
          return reject(new InterruptedError(result.exitCode === 143 ? 'SIGTERM' : 'SIGINT', result.message, result.hint));
        return reject(new L2oError(result.message, result.hint));
      }
      if (controls.kill?.aborted) return reject(new L2oError(`the ${job.kind} job of '${job.label}' was cancelled.`));
      reject(new JobProcessDied(`the process running the ${job.kind} job of '${job.label}' exited (${signal ?? `code ${code}`}) without a result.`));
    });
    child.send({ type: 'run', job, platform } satisfies ToChild);
  });
}

/** The job processes of a sweep boot what `platform` booted: its engine, plugins and folders. */
export function childPlatformOf(platform: Platform): ChildPlatform {
  const { settings } = platform;
  return {
    ...workerPlatformOf(platform),
    dataDir: settings.dataDir,
    cacheDir: path.resolve(settings.cacheDir),
    allowDownload: settings.allowDownload,
    ...(settings.gitCommit ? { gitCommit: settings.gitCommit } : {}),
  };
}
