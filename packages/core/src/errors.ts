/**
 * An error the user can act on: `message` names the problem, `hint` the fix. The CLI prints
 * it as one line and exits with `exitCode`, without a stack trace.
 */
export class L2oError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'L2oError';
  }

  /** The one line shown to the user. */
  oneLine(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** Bad usage (flags, specs, ids): exit code 2. */
export class UsageError extends L2oError {
  constructor(message: string, hint?: string) {
    super(message, hint, 2);
    this.name = 'UsageError';
  }
}

export function isL2oError(e: unknown): e is L2oError {
  return e instanceof L2oError || (e instanceof Error && (e.name === 'L2oError' || e.name === 'UsageError'));
}

/**
 * Engines fail out of memory with their own words: the WASM heap (at most 4 GB) aborts with
 * "memory access out of bounds" or "Cannot enlarge memory", V8 with "Array buffer allocation
 * failed", native TensorFlow with "OOM". Returns the error the user should see instead, or null.
 */
export function engineMemoryError(e: unknown): L2oError | null {
  if (!(e instanceof Error) || isL2oError(e)) return null;
  if (!/memory access out of bounds|Cannot enlarge memory|Array buffer allocation failed|\bOOM\b|out of memory/i.test(e.message)) return null;
  return new L2oError(
    `The tensor engine ran out of memory (${e.message.split('\n')[0]!.trim()}).`,
    'Split the batch with --micro-batch (e.g. 8), or use a smaller batch or problem; the WASM heap is at most 4 GB.',
  );
}
