import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { configHash } from '../util/stable-json.js';
import type { PartialEvaluation, PartialEvaluationStore } from './evaluator.js';

// An evaluation's finished batches in a file of the cache (evaluations/): an interrupted
// `l2o run`, sweep or campaign job continues its evaluation after them, as a training continues
// from its resume file.

const FORMAT = 1;

interface PartialFile {
  format: typeof FORMAT;
  /** What the batches were evaluated with (weights, engine, commit, set and K): a hash, compared on load. */
  identity: string;
  done: number;
  instances: number;
  seconds: number;
  accepted: number[] | null;
  /** F, float64 little-endian, base64. */
  F: string;
}

/** Where an evaluation job (`key`, as comparisonJobs names it) keeps its finished batches in the cache. */
export const partialEvaluationPath = (cacheDir: string, key: string) => path.join(cacheDir, 'evaluations', `${key}.partial.json`);

/** The file's content when it is one, whatever it was evaluated with. */
function readPartialFile(file: string): PartialFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as PartialFile;
    return kept.format === FORMAT ? kept : undefined;
  } catch {
    return undefined;
  }
}

/** How far a kept evaluation got (instances done of all, seconds so far), for a progress report; nothing when there is none. */
export function partialEvaluationProgress(file: string): { done: number; instances: number; seconds: number } | undefined {
  const kept = readPartialFile(file);
  return kept && { done: kept.done, instances: kept.instances, seconds: kept.seconds };
}

/**
 * A PartialEvaluationStore in `file`. `identity` is what must not change between the interrupted
 * process and the one that continues (the weights' checksum, the engine, the commit, the set and
 * K): kept batches of another identity are not read, and are overwritten by the new ones. An
 * unreadable file is no kept batches. Keeping them only saves work: a file that cannot be written
 * (a full disk) is said once through `warn`, and the evaluation goes on without it.
 */
export function partialEvaluationFile(
  file: string,
  identity: Record<string, unknown>,
  warn: (line: string) => void = () => {},
): PartialEvaluationStore & { remove(): void } {
  const id = configHash(identity);
  let writable = true;
  return {
    load(): PartialEvaluation | undefined {
      const kept = readPartialFile(file);
      if (kept?.identity !== id) return undefined;
      const bytes = Buffer.from(kept.F, 'base64');
      const F = new Float64Array(bytes.byteLength / 8);
      new Uint8Array(F.buffer).set(bytes);
      return { done: kept.done, instances: kept.instances, F, accepted: kept.accepted && Float64Array.from(kept.accepted), seconds: kept.seconds };
    },
    save({ done, instances, F, accepted, seconds }: PartialEvaluation): void {
      if (!writable) return;
      const kept: PartialFile = {
        format: FORMAT,
        identity: id,
        done,
        instances,
        seconds,
        accepted: accepted && Array.from(accepted),
        F: Buffer.from(F.buffer, F.byteOffset, F.byteLength).toString('base64'),
      };
      try {
        writeFileAtomic(file, JSON.stringify(kept));
      } catch (e) {
        writable = false;
        warn(`the evaluation's finished batches cannot be kept in ${file} (${(e as Error).message}); interrupted, it would start over.`);
      }
    },
    remove: () => rmSync(file, { force: true }),
  };
}
