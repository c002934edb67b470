import { UsageError } from '@l2o/core';

/** What a numeric option accepts, in words for the error message. */
export interface NumericRule {
  check: (v: number) => boolean;
  /** e.g. 'a number in [0, 1)'. */
  expected: string;
}

export const POSITIVE: NumericRule = { check: (v) => v > 0, expected: 'a positive number' };
export const UNIT_INTERVAL: NumericRule = { check: (v) => v >= 0 && v < 1, expected: 'a number in [0, 1)' };

/**
 * Reads numeric options with defaults (`undefined`: no default, the option may be left out).
 * Unknown keys and bad values fail with a UsageError naming the option, with the fix as hint.
 * Values must be numbers: the CLI's `-o id.key=value` and YAML specs already parse them.
 */
export function numericOptions<T extends Record<string, number | undefined>>(
  id: string,
  given: Record<string, unknown>,
  defaults: T,
  rules: Partial<Record<keyof T, NumericRule>> = {},
): T {
  const known = Object.keys(defaults);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new UsageError(`Unknown option '${key}' for ${id}.`, known.length ? `Known options: ${known.join(', ')}.` : `${id} takes no options.`);
    }
  }
  const out: Record<string, number | undefined> = { ...defaults };
  for (const key of known as (keyof T & string)[]) {
    const v = given[key];
    if (v === undefined) continue;
    const rule = rules[key] ?? POSITIVE;
    if (typeof v !== 'number' || !Number.isFinite(v) || !rule.check(v)) {
      const fallback = defaults[key];
      throw new UsageError(
        `${id} option ${key} must be ${rule.expected}, got ${JSON.stringify(v)}.`,
        fallback === undefined ? `Give ${rule.expected}, or leave ${key} out.` : `Give ${rule.expected}, or leave it out for the default ${fallback}.`,
      );
    }
    out[key] = v;
  }
  return out as T;
}
