/**
 * An error the user can act on: `message` names the problem, `hint` the fix. The CLI prints
 * it as one line and exits with `exitCode`, without a stack trace.
 */
export class L2oError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: 1 | 2 | 130 | 143 = 1,
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

/** The signals a command stops on, and the exit codes shells use for them (128 + number). */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * The work was stopped by a signal before it finished. Nothing partial was written; `message`
 * says what was kept (e.g. a resumable checkpoint). Exit code 130 (SIGINT) or 143 (SIGTERM).
 */
export class InterruptedError extends L2oError {
  constructor(
    readonly signal: StopSignal,
    message = `Interrupted by ${signal}; nothing was written.`,
    hint?: string,
  ) {
    super(message, hint, signal === 'SIGTERM' ? 143 : 130);
    this.name = 'InterruptedError';
  }
}

/** The signal an AbortSignal was aborted with (the CLI aborts with the signal's name as reason). */
export function stopSignalOf(signal: AbortSignal): StopSignal {
  return signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
}

/** Throws InterruptedError once the signal is aborted; loops call it between units of work. */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(stopSignalOf(signal));
}

export function isL2oError(e: unknown): e is L2oError {
  return e instanceof L2oError || (e instanceof Error && ['L2oError', 'UsageError', 'InterruptedError'].includes(e.name));
}

/**
 * Engines fail out of memory with their own words: the WASM heap (at most 4 GB) aborts with
 * "memory access out of bounds" or "Cannot enlarge memory", V8 with "Array buffer allocation
 * failed", native TensorFlow with "OOM". Returns the error the user should see instead, or null.
 */
export function engineMemoryError(e: unknown): L2oError | null {
  if (!(e instanceof Error) || isL2oError(e)) return null;
  // tfjs-backend-wasm is built to abort when an allocation fails: "Aborted(). Build with -sASSERTIONS …".
  if (/^Aborted\(/.test(e.message)) {
    return new L2oError(
      'The WASM engine aborted: its heap most likely ran out of memory (Aborted()).',
      'Split the batch into smaller micro-batches: leave --micro-batch (training.microBatch) unset to use the largest that fits, or give a smaller one; the WASM heap is at most 4 GB.',
    );
  }
  if (!/memory access out of bounds|Cannot enlarge memory|Array buffer allocation failed|\bOOM\b|out of memory/i.test(e.message)) return null;
  return new L2oError(
    `The tensor engine ran out of memory (${e.message.split('\n')[0]!.trim()}).`,
    'Split the batch into smaller micro-batches: leave --micro-batch (training.microBatch) unset to use the largest that fits, or give a smaller one; the WASM heap is at most 4 GB.',
  );
}
