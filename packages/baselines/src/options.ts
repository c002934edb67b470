import { UsageError } from '@l2o/core';

/** Reads numeric options with defaults; unknown keys and bad values fail naming the option. */
export function numericOptions<T extends Record<string, number>>(
  id: string,
  given: Record<string, unknown>,
  defaults: T,
  check: Partial<Record<keyof T, (v: number) => boolean>> = {},
): T {
  const known = Object.keys(defaults);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new UsageError(`Unknown option '${key}' for ${id}.`, known.length ? `Known options: ${known.join(', ')}.` : `${id} takes no options.`);
    }
  }
  const out = { ...defaults };
  for (const key of known as (keyof T & string)[]) {
    const v = given[key];
    if (v === undefined) continue;
    const ok = typeof v === 'number' && Number.isFinite(v) && (check[key]?.(v) ?? v > 0);
    if (!ok) throw new UsageError(`${id} option ${key} must be a ${check[key] ? 'valid' : 'positive'} number, got ${JSON.stringify(v)}.`);
    (out as Record<string, number>)[key] = v;
  }
  return out;
}
