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
