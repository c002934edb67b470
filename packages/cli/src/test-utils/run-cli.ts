import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; unset?: string[]; uid?: number; gid?: number } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', L2O_BACKEND: 'wasm', L2O_STORE: 'off', ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  const r = spawnSync(process.execPath, [BIN, ...args], {
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    cwd: options.cwd ?? REPO_ROOT,
    // vitest sets NODE_ENV=test, which turns on oclif's developer warnings; users do not have it.
    // The run store is off unless a test asks for one: opening it takes seconds, and test files
    // run in parallel (the store tests give each their own).
    env,
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

/**
 * Command-line arguments written as one line: args`run --model lstm --out ${file}`. Words of the
 * literal split at whitespace; an interpolated value stays one argument (spaces and all) and an
 * array gives one argument per element. A value written against a word (`--out=${file}`) joins it.
 */
export function args(strings: TemplateStringsArray, ...values: unknown[]): string[] {
  const out: string[] = [];
  let joinNext = false;
  const push = (word: string) => {
    if (joinNext && out.length) out[out.length - 1] += word;
    else out.push(word);
    joinNext = false;
  };
  strings.forEach((literal, i) => {
    const words = literal.split(/(\s+)/);
    for (const w of words) {
      if (w === '') continue;
      if (/^\s+$/.test(w)) joinNext = false;
      else push(w);
    }
    // A value right after a word (no space between) joins that word.
    joinNext = literal.length > 0 && !/\s$/.test(literal) && out.length > 0;
    if (i < values.length) {
      const v = values[i];
      if (Array.isArray(v)) for (const e of v) out.push(String(e));
      else push(String(v));
      // A word right after the value (no space between) joins it.
      joinNext = !/^\s/.test(strings[i + 1] ?? ' ');
    }
  });
  return out;
}

/**
 * Writes `<file>.resume` from the final checkpoint `file`: the shape an interrupted training
 * leaves (step 1 of its options, with `changes` applied to them), for tests of --resume.
 */
export function writeResumeOf(file: string, changes: Record<string, unknown> = {}): string {
  const final = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { meta: { training: Record<string, unknown> } };
  const training = {
    nextStep: 1,
    learningRate: 0.01,
    metaOptimizer: [],
    rng: { s: [1, 2, 3, 4], spare: null },
    best: null,
    history: [],
    validation: [],
    seconds: 0,
    options: { ...final.meta.training, ...changes },
  };
  writeFileSync(`${file}.resume`, JSON.stringify({ ...final, training }));
  return `${file}.resume`;
}
