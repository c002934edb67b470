import path from 'node:path';
import { checkOutputPath, curveCsv, stableStringify, writeRunDir, type RunFiles, type RunRecord } from '@l2o/core';

/**
 * Writes a stored run back as a run directory (config.json, summary.json, metrics, checkpoints,
 * plots and summaries, and the checksum manifest of these), atomically, into `dir` (which must
 * not exist). config.json has its keys sorted, as runs write it, so it comes back byte for byte;
 * summary.json comes back equal as JSON (the store does not keep its keys' order).
 */
export async function exportRunDir(run: RunRecord, dir: string): Promise<string> {
  checkOutputPath(dir, 'new-dir', 'The export folder');
  const files: RunFiles = {
    'config.json': `${JSON.stringify(JSON.parse(stableStringify(run.spec)), null, 2)}\n`,
    'summary.json': `${JSON.stringify(run.gitCommit ? { ...run.summary, gitCommit: run.gitCommit } : run.summary, null, 2)}\n`,
  };
  for (const curve of run.curves) {
    files[`metrics/${curve.optimizer}.csv`] = curveCsv(curve);
    files[`metrics/${curve.optimizer}.json`] = JSON.stringify(curve, null, 1);
  }
  for (const [label, checkpoint] of Object.entries(run.checkpoints)) files[`checkpoints/${label}.json`] = checkpoint;
  Object.assign(files, run.artifacts);
  return writeRunDir(path.resolve(dir), files);
}
