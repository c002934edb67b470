import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../../..');
export const SHARED_DATASETS = path.resolve(REPO_ROOT, '../shared/datasets');
const BIN = path.join(REPO_ROOT, 'packages/cli/bin/run.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `l2o` binary as a user would, in `cwd`, with extra environment. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; uid?: number; gid?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    cwd: options.cwd ?? REPO_ROOT,
    // vitest sets NODE_ENV=test, which turns on oclif's developer warnings; users do not have it.
    // The run store is off unless a test asks for one: opening it takes seconds, and test files
    // run in parallel (the store tests give each their own).
    env: { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off', ...options.env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The error is one line on stderr, the last, starting with "Error:" (warnings aside); no stack
 * trace and no "unexpected" error.
 */
export function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() && !/^warning: /.test(l));
  const errors = lines.filter((l) => l.startsWith('Error'));
  expect(errors, stderr).toHaveLength(1);
  expect(lines.at(-1)).toBe(errors[0]);
  expect(errors[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at |\(unexpected/);
}
