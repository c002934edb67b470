/**
 * Option parsing for the models: every option has a default and a parser; unknown keys and
 * values of the wrong kind fail with a UsageError that names the option and the known ones.
 */
import { UsageError, closest } from '@l2o/core';

/** One option: its default and how a user value is checked. `name` is the dotted path. */
export interface OptionField<T> {
  readonly default: T;
  parse(value: unknown, name: string, model: string): T;
  /** One line for listings (README, `l2o models`). */
  readonly describe: string;
}

/** The fields of an option object, by key. */
export type OptionFields<T> = { readonly [K in keyof T]: OptionField<T[K]> };

function bad(model: string, name: string, value: unknown, want: string): UsageError {
  return new UsageError(`Option '${name}' of model '${model}' must be ${want}, got ${JSON.stringify(value)}.`);
}

export function intOption(def: number, describe: string, range: { min?: number; max?: number } = {}): OptionField<number> {
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const want = `an integer${range.min !== undefined ? ` ≥ ${range.min}` : ''}${range.max !== undefined ? ` ≤ ${range.max}` : ''}`;
  return {
    default: def,
    describe,
    parse(value, name, model) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(model, name, value, want);
      return value;
    },
  };
}

export function numberOption(
  def: number,
  describe: string,
  range: { min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean } = {},
): OptionField<number> {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`${range.exclusiveMin ? '>' : '≥'} ${range.min}`);
  if (range.max !== undefined) parts.push(`${range.exclusiveMax ? '<' : '≤'} ${range.max}`);
  const want = `a finite number${parts.length ? ` ${parts.join(' and ')}` : ''}`;
  return {
    default: def,
    describe,
    parse(value, name, model) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(model, name, value, want);
      if (range.min !== undefined && (range.exclusiveMin ? value <= range.min : value < range.min)) throw bad(model, name, value, want);
      if (range.max !== undefined && (range.exclusiveMax ? value >= range.max : value > range.max)) throw bad(model, name, value, want);
      return value;
    },
  };
}

export function enumOption<T extends string>(def: T, values: readonly T[], describe: string): OptionField<T> {
  return {
    default: def,
    describe,
    parse(value, name, model) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        const hint = typeof value === 'string' ? closest(value, values) : undefined;
        throw new UsageError(
          `Option '${name}' of model '${model}' must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}.${hint ? ` Did you mean '${hint}'?` : ''}`,
        );
      }
      return value as T;
    },
  };
}

/** A nested option object (e.g. `attention: { axis, heads, window }`); partial values merge with the defaults. */
export function objectOption<T extends object>(fields: OptionFields<T>, describe: string): OptionField<T> {
  return {
    default: defaultsOf(fields),
    describe,
    parse(value, name, model) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(model, name, value, 'an object');
      return resolveFields(fields, value as Record<string, unknown>, model, `${name}.`);
    },
  };
}

export function defaultsOf<T extends object>(fields: OptionFields<T>): T {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields) as [string, OptionField<unknown>][]) {
    const d = field.default;
    out[key] = d !== null && typeof d === 'object' ? structuredClone(d) : d;
  }
  return out as T;
}

function resolveFields<T extends object>(fields: OptionFields<T>, options: Record<string, unknown>, model: string, prefix: string): T {
  const known = Object.keys(fields);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = closest(key, known);
      throw new UsageError(
        `Unknown option '${prefix}${key}' for model '${model}'.${hint ? ` Did you mean '${prefix}${hint}'?` : ''}`,
        `Known options${prefix ? ` of '${prefix.slice(0, -1)}'` : ''}: ${known.join(', ')}.`,
      );
    }
  }
  const out = defaultsOf(fields) as Record<string, unknown>;
  for (const [key, field] of Object.entries(fields) as [string, OptionField<unknown>][]) {
    const value = options[key];
    if (value !== undefined) out[key] = field.parse(value, `${prefix}${key}`, model);
  }
  return out as T;
}

/** Resolves user options against the fields: defaults filled in, unknown keys rejected. */
export function resolveOptions<T extends object>(model: string, fields: OptionFields<T>, options: Record<string, unknown> = {}): T {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new UsageError(`The options of model '${model}' must be an object, got ${JSON.stringify(options)}.`);
  }
  return resolveFields(fields, options, model, '');
}

/** The options of a model as lines `name (default …): description`, for listings. */
export function describeOptions<T extends object>(fields: OptionFields<T>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(fields) as [string, OptionField<unknown>][]) {
    lines.push(`${prefix}${key} (default ${JSON.stringify(field.default)}): ${field.describe}`);
  }
  return lines;
}
