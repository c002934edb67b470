import { UsageError } from '@l2o/core';
import type { DatasetRequest } from '@l2o/core';

/** Merges creation options with request options (request wins) and rejects unknown keys. */
export function mergeOptions(
  dataset: string,
  known: readonly string[],
  created: Record<string, unknown> | undefined,
  requested: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(created ?? {}), ...(requested ?? {}) };
  for (const key of Object.keys(merged)) {
    if (merged[key] === undefined) delete merged[key];
    else if (!known.includes(key)) {
      throw new UsageError(
        `Unknown option '${key}' for dataset ${dataset}.`,
        `Known options: ${known.join(', ')}.`,
      );
    }
  }
  return merged;
}

function toNumber(dataset: string, key: string, value: unknown): number {
  const v = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new UsageError(`Dataset ${dataset}: option ${key} must be a number, got ${JSON.stringify(value)}.`);
  }
  return v;
}

/** A positive integer option (or its default). */
export function intOption(
  dataset: string,
  options: Record<string, unknown>,
  key: string,
  fallback: number,
  min = 1,
): number {
  if (options[key] === undefined) return fallback;
  const v = toNumber(dataset, key, options[key]);
  if (!Number.isInteger(v) || v < min) {
    throw new UsageError(
      `Dataset ${dataset}: option ${key} = ${options[key]} is not valid.`,
      `Give an integer ≥ ${min}.`,
    );
  }
  return v;
}

/** λ: a finite number ≥ 0. */
export function lambdaOption(dataset: string, options: Record<string, unknown>, fallback: number): number {
  if (options.lambda === undefined) return fallback;
  const v = toNumber(dataset, 'lambda', options.lambda);
  if (v < 0) throw new UsageError(`Dataset ${dataset}: lambda = ${v} is negative.`, 'Give lambda ≥ 0.');
  return v;
}

export function stringOption(dataset: string, options: Record<string, unknown>, key: string): string | undefined {
  const v = options[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') {
    throw new UsageError(`Dataset ${dataset}: option ${key} must be a non-empty string, got ${JSON.stringify(v)}.`);
  }
  return v;
}

export function booleanOption(dataset: string, options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = options[key];
  if (v === undefined) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new UsageError(`Dataset ${dataset}: option ${key} must be true or false, got ${JSON.stringify(v)}.`);
}

/** Fails when a request asks for a problem the dataset does not serve. */
export function checkServes(dataset: string, serves: readonly string[], request: DatasetRequest): void {
  if (!serves.includes(request.problem)) {
    throw new UsageError(
      `Dataset ${dataset} does not serve problem '${request.problem}'.`,
      `It serves: ${serves.join(', ')}.`,
    );
  }
  if (!Number.isInteger(request.count) || request.count < 1) {
    throw new UsageError(`Dataset ${dataset}: instance count ${request.count} is not valid.`, 'Ask for at least 1 instance.');
  }
}
