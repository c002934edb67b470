import { createHash } from 'node:crypto';
import { existsSync, writeFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeDirAtomic, writeFileAtomic } from '../io/atomic.js';
import type { EvaluationCurve } from '../evaluate/evaluator.js';

/** A run directory name: time to the second, a slug of what ran, and a counter if taken. */
export function newRunDirName(runsDir: string, slug: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const base = `${stamp}-${slug.replace(/[^a-z0-9-]+/gi, '-').toLowerCase()}`;
  let name = base;
  for (let i = 2; existsSync(path.join(runsDir, name)); i++) name = `${base}-${i}`;
  return path.join(runsDir, name);
}

/** Per-iteration metrics of one optimizer as CSV: iteration, mean F, mean relative gap. */
export function curveCsv(curve: EvaluationCurve): string {
  const { acceptance } = curve;
  // A safeguarded optimizer's column: the fraction of instances that kept the learned step into iteration k.
  const rows = curve.meanF.map((f, k) => `${k},${f},${curve.meanGap[k]}${acceptance ? `,${k === 0 ? '' : acceptance[k - 1]}` : ''}`);
  return `iteration,mean_f,mean_rel_gap${acceptance ? ',accepted' : ''}\n${rows.join('\n')}\n`;
}

export interface RunFiles {
  /** Relative path → content. */
  [relative: string]: string | Uint8Array;
}

/**
 * A run directory's checksum manifest: one line `<sha256>  <path>` per file (sha256sum's format,
 * so `sha256sum -c checksums.sha256` checks it too), sorted by path. `l2o runs import` refuses a
 * run whose files do not match it: its summary and its curves could otherwise disagree.
 */
export const RUN_MANIFEST = 'checksums.sha256';

const sha256Of = (content: string | Uint8Array) => createHash('sha256').update(content).digest('hex');

function manifestText(checksums: ReadonlyMap<string, string>): string {
  return [...checksums.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => `${checksums.get(name)}  ${name}\n`)
    .join('');
}

/**
 * Writes a run directory atomically: everything goes into a temporary directory beside the
 * target, which is renamed into place at the end; a failed run leaves nothing behind. The
 * checksum manifest of the files is written last (a manifest given in `files` is replaced).
 */
export async function writeRunDir(target: string, files: RunFiles): Promise<string> {
  await writeDirAtomic(target, (tmp) => {
    const checksums = new Map<string, string>();
    for (const [relative, content] of Object.entries(files)) {
      if (relative === RUN_MANIFEST) continue;
      const file = path.join(tmp, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      checksums.set(relative, sha256Of(content));
    }
    writeFileSync(path.join(tmp, RUN_MANIFEST), manifestText(checksums));
  });
  return target;
}

/** Every file under `dir`, as '/'-separated paths relative to it. */
function filesUnder(dir: string, sub = ''): string[] {
  return readdirSync(path.join(dir, sub)).flatMap((name) => {
    const rel = sub ? `${sub}/${name}` : name;
    return statSync(path.join(dir, rel)).isDirectory() ? filesUnder(dir, rel) : [rel];
  });
}

/** A run directory's manifest: null when it has none, 'damaged' when a line is not `<sha256>  <path>`. */
function readManifest(dir: string): Map<string, string> | null | 'damaged' {
  const file = path.join(dir, RUN_MANIFEST);
  if (!existsSync(file)) return null;
  const checksums = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) return 'damaged';
    checksums.set(m[2]!, m[1]!);
  }
  return checksums;
}

/**
 * Checks a run directory against its checksum manifest. `verified` is false for a directory
 * written before run directories had one; `problems` names each file that was edited, removed
 * or added since the run was written (empty when all match).
 */
export function checkRunDir(dir: string): { verified: boolean; problems: string[] } {
  const checksums = readManifest(dir);
  if (!checksums) return { verified: false, problems: [] };
  if (checksums === 'damaged') return { verified: true, problems: [`${RUN_MANIFEST} is damaged (a line is not "<sha256>  <path>")`] };
  const problems: string[] = [];
  const present = new Set(filesUnder(dir).filter((f) => f !== RUN_MANIFEST));
  for (const [name, sha] of [...checksums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!present.has(name)) problems.push(`${name}, listed in ${RUN_MANIFEST}, is missing`);
    else if (sha256Of(readFileSync(path.join(dir, name))) !== sha) problems.push(`${name} differs from its checksum in ${RUN_MANIFEST}`);
  }
  for (const name of [...present].sort()) if (!checksums.has(name)) problems.push(`${name} is not listed in ${RUN_MANIFEST}`);
  return { verified: true, problems };
}

/**
 * After files of a run directory were rewritten by l2o itself (`l2o report` re-renders the plots
 * and summary.md in place), records their new checksums, so the run still imports. A directory
 * without a manifest (written before them) is left without one: that would vouch for files
 * nothing checked.
 */
export function refreshRunManifest(dir: string, rewritten: readonly string[]): void {
  const checksums = readManifest(dir);
  if (!checksums || checksums === 'damaged') return;
  for (const name of rewritten) checksums.set(name, sha256Of(readFileSync(path.join(dir, name))));
  writeFileAtomic(path.join(dir, RUN_MANIFEST), manifestText(checksums));
}
