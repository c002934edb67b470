/**
 * Typed plugin options, declared once per plugin: every option has a default (or none), a parser
 * and a one-line description. The same fields validate user options (unknown keys and values of
 * the wrong kind fail with a UsageError naming the option, the plugin and the known options, with a
 * "did you mean"), fill in the defaults, and make the listings (`l2o plugins --options`, `l2o models`).
 */
import { UsageError } from '../errors.js';
import { closest } from '../registry/did-you-mean.js';

/** The plugin whose options these are, for messages: kind 'optimizer', id 'adam'. */
export interface OptionOwner {
  readonly kind: string;
  readonly id: string;
  /** How messages name the owner when it is not a plugin (e.g. 'the training settings'). */
  readonly label?: string;
}

/** One option: its default and how a user value is checked. `name` is the dotted path. */
export interface OptionField<T> {
  readonly default: T;
  /** Checks and converts a given value; `owner` names the plugin in messages, e.g. "optimizer 'adam'". */
  parse(value: unknown, name: string, owner: string): T;
  /** One line for listings (`l2o plugins --options`, `l2o models --json`). */
  readonly describe: string;
  /** Shown in listings instead of the default when it is derived (e.g. 'from preset'). */
  readonly defaultText?: string;
  /** The fields of a nested option object (`objectOption`), for listings. */
  readonly fields?: AnyOptionFields;
  /** The JSON schema of a valid value (made by the factories below), for specs' schemas. */
  readonly schema?: JsonSchema;
}

/** A JSON schema (draft-07 subset) as ajv takes it. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** The fields of an option object, by key. */
export type OptionFields<T> = { readonly [K in keyof T]-?: OptionField<T[K]> };

/** Fields of options of any shape: what a registration exposes for listings. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOptionFields = { readonly [key: string]: OptionField<any> };

/** Settings every field factory takes beside its default and description. */
export interface FieldSettings {
  /** Shown in listings instead of the default (useful when the default is derived). */
  defaultText?: string;
  /** Also accept the value's string form ('5', 'true'), e.g. for options that come as text. */
  acceptStrings?: boolean;
}

export interface IntRange extends FieldSettings {
  min?: number;
  max?: number;
}

export interface NumberRange extends IntRange {
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

function bad(owner: string, name: string, value: unknown, want: string): UsageError {
  return new UsageError(`Option '${name}' of ${owner} must be ${want}, got ${JSON.stringify(value)}.`);
}

function numeric(value: unknown, acceptStrings: boolean | undefined): unknown {
  return acceptStrings && typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
}

function settingsOf(s: FieldSettings): { defaultText?: string } {
  return s.defaultText !== undefined ? { defaultText: s.defaultText } : {};
}

/** An integer option; `def` undefined: no default (the option may be left out). */
export function intOption(def: number, describe: string, range?: IntRange): OptionField<number>;
export function intOption(def: undefined, describe: string, range?: IntRange): OptionField<number | undefined>;
export function intOption(def: number | undefined, describe: string, range: IntRange = {}): OptionField<number | undefined> {
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const want =
    range.min !== undefined && range.max !== undefined
      ? `an integer from ${range.min} to ${range.max}`
      : `an integer${range.min !== undefined ? ` ≥ ${range.min}` : ''}${range.max !== undefined ? ` ≤ ${range.max}` : ''}`;
  return {
    default: def,
    describe,
    ...settingsOf(range),
    schema: { type: 'integer', ...(range.min !== undefined ? { minimum: range.min } : {}), ...(range.max !== undefined ? { maximum: range.max } : {}) },
    parse(value, name, owner) {
      const v = numeric(value, range.acceptStrings);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(owner, name, value, want);
      return v;
    },
  };
}

/** A finite number option, optionally bounded; `def` undefined: no default. */
export function numberOption(def: number, describe: string, range?: NumberRange): OptionField<number>;
export function numberOption(def: undefined, describe: string, range?: NumberRange): OptionField<number | undefined>;
export function numberOption(def: number | undefined, describe: string, range: NumberRange = {}): OptionField<number | undefined> {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`${range.exclusiveMin ? '>' : '≥'} ${range.min}`);
  if (range.max !== undefined) parts.push(`${range.exclusiveMax ? '<' : '≤'} ${range.max}`);
  const want = `a finite number${parts.length ? ` ${parts.join(' and ')}` : ''}`;
  return {
    default: def,
    describe,
    ...settingsOf(range),
    schema: {
      type: 'number',
      ...(range.min !== undefined ? { [range.exclusiveMin ? 'exclusiveMinimum' : 'minimum']: range.min } : {}),
      ...(range.max !== undefined ? { [range.exclusiveMax ? 'exclusiveMaximum' : 'maximum']: range.max } : {}),
    },
    parse(value, name, owner) {
      const v = numeric(value, range.acceptStrings);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(owner, name, value, want);
      if (range.min !== undefined && (range.exclusiveMin ? v <= range.min : v < range.min)) throw bad(owner, name, value, want);
      if (range.max !== undefined && (range.exclusiveMax ? v >= range.max : v > range.max)) throw bad(owner, name, value, want);
      return v;
    },
  };
}

/** true or false (with `acceptStrings`, also 'true' and 'false'). */
export function booleanOption(def: boolean, describe: string, settings: FieldSettings = {}): OptionField<boolean> {
  return {
    default: def,
    describe,
    ...settingsOf(settings),
    schema: { type: 'boolean' },
    parse(value, name, owner) {
      if (value === true || (settings.acceptStrings && value === 'true')) return true;
      if (value === false || (settings.acceptStrings && value === 'false')) return false;
      throw bad(owner, name, value, 'true or false');
    },
  };
}

/** One of a few strings; a near miss gets a "did you mean". */
export function enumOption<T extends string>(def: T, values: readonly T[], describe: string, settings: FieldSettings = {}): OptionField<T> {
  return {
    default: def,
    describe,
    ...settingsOf(settings),
    schema: { enum: values },
    parse(value, name, owner) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        const hint = typeof value === 'string' ? closest(value, values) : undefined;
        throw new UsageError(
          `Option '${name}' of ${owner} must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(value)}.${hint ? ` Did you mean '${hint}'?` : ''}`,
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
    fields: fields,
    schema: schemaOf(fields),
    parse(value, name, owner) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(owner, name, value, 'an object');
      return resolveFields(fields, value as Record<string, unknown>, owner, `${name}.`);
    },
  };
}

/** The options every field left at its default (fields without a default: present, undefined). */
export function defaultsOf<T extends object>(fields: OptionFields<T>): T {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries<OptionField<unknown>>(fields)) {
    const d = field.default;
    out[key] = d !== null && typeof d === 'object' ? structuredClone(d) : d;
  }
  return out as T;
}

function ownerName(owner: OptionOwner): string {
  return owner.label ?? `${owner.kind} '${owner.id}'`;
}

/**
 * The JSON schema of an options object with these fields: no unknown keys, each value as its
 * field's schema says (any value where a hand-written field gives none).
 */
export function schemaOf(fields: AnyOptionFields, omit: readonly string[] = []): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries(fields)
      .filter(([key]) => !omit.includes(key))
      .map(([key, field]) => [key, field.schema ?? {}]),
  );
  return { type: 'object', additionalProperties: false, properties };
}

function leaveOutHint(field: OptionField<unknown>): string {
  if (field.defaultText !== undefined) return `Leave it out for the default (${field.defaultText}).`;
  return field.default === undefined ? 'It may be left out.' : `Leave it out for the default ${JSON.stringify(field.default)}.`;
}

function resolveFields<T extends object>(fields: OptionFields<T>, options: Record<string, unknown>, owner: string, prefix: string): T {
  const known = Object.keys(fields);
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !known.includes(key)) {
      const hint = closest(key, known);
      throw new UsageError(
        `Unknown option '${prefix}${key}' for ${owner}.${hint ? ` Did you mean '${prefix}${hint}'?` : ''}`,
        known.length ? `Known options${prefix ? ` of '${prefix.slice(0, -1)}'` : ''}: ${known.join(', ')}.` : `The ${owner} takes no options.`,
      );
    }
  }
  const out = defaultsOf(fields) as Record<string, unknown>;
  for (const [key, field] of Object.entries<OptionField<unknown>>(fields)) {
    const value = options[key];
    if (value === undefined) continue;
    try {
      out[key] = field.parse(value, `${prefix}${key}`, owner);
    } catch (e) {
      // A bad value: say what leaving it out gives.
      if (e instanceof UsageError && e.hint === undefined) throw new UsageError(e.message, leaveOutHint(field));
      throw e;
    }
  }
  return out as T;
}

/**
 * Resolves user options against the fields: defaults filled in, values checked, unknown keys
 * rejected (with a "did you mean" and the known ones). Keys given as undefined count as left out.
 */
export function resolveOptions<T extends object>(owner: OptionOwner, fields: OptionFields<T>, options: Record<string, unknown> | undefined = {}): T {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new UsageError(`The options of ${ownerName(owner)} must be an object, got ${JSON.stringify(options)}.`);
  }
  return resolveFields(fields, options, ownerName(owner), '');
}

/** One option in a listing: dotted name, default (absent when there is none) and description. */
export interface OptionInfo {
  name: string;
  default?: unknown;
  /** The default as shown to a user: JSON, or the field's `defaultText`. */
  defaultText: string;
  description: string;
}

/** The options of a plugin, nested objects flattened to dotted names, for listings. */
export function listOptions(fields: AnyOptionFields | undefined, prefix = ''): OptionInfo[] {
  const out: OptionInfo[] = [];
  for (const [key, field] of Object.entries(fields ?? {})) {
    if (field.fields) {
      out.push(...listOptions(field.fields, `${prefix}${key}.`));
      continue;
    }
    out.push({
      name: `${prefix}${key}`,
      ...(field.default !== undefined ? { default: field.default } : {}),
      defaultText: field.defaultText ?? (field.default === undefined ? 'none' : JSON.stringify(field.default)),
      description: field.describe,
    });
  }
  return out;
}

/** The options as lines `name (default …): description`, for listings and help. */
export function describeOptions(fields: AnyOptionFields | undefined, prefix = ''): string[] {
  return listOptions(fields, prefix).map((o) => `${o.name} (default ${o.defaultText}): ${o.description}`);
}
