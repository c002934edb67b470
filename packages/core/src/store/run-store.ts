import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeDirAtomic } from '../io/atomic.js';
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
 * Writes a run directory atomically: everything goes into a temporary directory beside the
 * target, which is renamed into place at the end; a failed run leaves nothing behind.
 */
export async function writeRunDir(target: string, files: RunFiles): Promise<string> {
  await writeDirAtomic(target, (tmp) => {
    for (const [relative, content] of Object.entries(files)) {
      const file = path.join(tmp, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  });
  return target;
}
