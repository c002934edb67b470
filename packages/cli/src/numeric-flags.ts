import os from 'node:os';
import { parseIntegerText, stderrLogger, UsageError, type IntLimit } from '@l2o/core';

/**
 * oclif prefixes the message of an error a flag's parser throws with "Parsing --flag" and ends it
 * with "See more help with --help"; this one's message already names the flag, so it keeps it.
 */
class FlagValueError extends UsageError {
  constructor(e: UsageError) {
    super(e.message, e.hint);
    const message = e.message;
    Object.defineProperty(this, 'message', { get: () => message, set: () => {}, enumerable: false, configurable: true });
  }
}

/**
 * An integer flag's parser, for `Flags.integer({ ...integerIn(LIMITS.seed), … })`: the text must be
 * an integer within the limit, or the command stops before any work with exit code 2 and one line
 * naming the flag and the range. (oclif's own reads 99999999999999999999 as 1e20.)
 */
export function integerIn(limit: IntLimit): { parse: (input: string, ctx: unknown, flag: { name: string }) => Promise<number> } {
  return {
    parse: async (input, _ctx, flag) => {
      try {
        return parseIntegerText(`--${flag.name}`, input, limit);
      } catch (e) {
        throw e instanceof UsageError ? new FlagValueError(e) : e;
      }
    },
  };
}

/** Processes or threads run at once: at most this many per core. */
export const MAX_PARALLELISM_PER_CORE = 4;

/**
 * Checks a count of processes or threads against this machine's cores: above them they only take
 * turns (a one-line warning); above MAX_PARALLELISM_PER_CORE per core the count is refused.
 */
export function checkParallelism(flag: string, value: number | undefined, what: string): void {
  if (value === undefined) return;
  const cores = os.availableParallelism();
  const cap = MAX_PARALLELISM_PER_CORE * cores;
  const onCores = `${flag} ${value} starts ${value} ${what} on ${cores} core${cores === 1 ? '' : 's'}`;
  if (value > cap) {
    throw new UsageError(
      `${onCores}; at most ${cap} (${MAX_PARALLELISM_PER_CORE} per core) are accepted.`,
      `Give ${flag} ${cores} (one per core), or leave it out.`,
    );
  }
  if (value > cores) stderrLogger.warn(`${onCores}: they take turns, each with its own memory.`);
}
