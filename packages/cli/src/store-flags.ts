import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { L2oError, UsageError, type RunRecord } from '@l2o/core';
import { loadRunDir, type LoadedRun } from '@l2o/report';
import { defaultStoreLocation, openRunStore, type RunCondition, type SqlRunStore } from '@l2o/store';

/** Opens the store a command was given, runs `fn`, and closes it whatever happens. */
export async function withStore<T>(location: string | undefined, fn: (store: SqlRunStore) => Promise<T>): Promise<T> {
  if (location === 'off') throw new UsageError('The run store is off (--store off or L2O_STORE=off).', 'Give --store <folder or postgres://…>.');
  const store = await openRunStore(location ?? defaultStoreLocation());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const unknownId = (id: string) => new L2oError(`No stored run has the id '${id}'.`, 'See `l2o runs list`.');

/** Stored runs by id, in the order given; the first unknown id is an error naming it. */
export async function getStoredRuns(store: SqlRunStore, ids: readonly string[], notFound: (id: string) => Error = unknownId): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (const id of ids) {
    const run = await store.getRun(id);
    if (!run) throw notFound(id);
    runs.push(run);
  }
  return runs;
}

/**
 * Whether a command-line run is a run directory: an existing folder, or anything with a path
 * separator (run ids never have one), which then fails as a missing run directory.
 */
export function isRunDirArg(arg: string): boolean {
  return (existsSync(arg) && statSync(arg).isDirectory()) || arg.includes('/') || arg.includes(path.sep);
}

/**
 * The runs named on a command line, in order: an existing folder is read as a run directory,
 * anything else is the id of a stored run, looked up in the store at `location` (opened only
 * when an id is given). Run directories are read, and checked, first.
 */
export async function loadRuns(args: readonly string[], location: string | undefined): Promise<LoadedRun[]> {
  const loaded = args.map((arg) => (isRunDirArg(arg) ? loadRunDir(arg) : undefined));
  const ids = args.filter((_, i) => loaded[i] === undefined);
  if (ids.length === 0) return loaded as LoadedRun[];
  if (location === 'off') {
    throw new L2oError(
      `'${ids[0]}' is not a folder, and with the run store off it cannot be looked up as a stored run id.`,
      'Give a run directory, or --store <folder or postgres://…>.',
    );
  }
  const stored = await withStore(location, (store) =>
    getStoredRuns(
      store,
      ids,
      (id) => new L2oError(`'${id}' is neither a run directory nor the id of a run stored in ${store.location}.`, 'See `l2o runs list`.'),
    ),
  );
  return loaded.map((run) => run ?? stored.shift()!);
}

/** `--where key=value` entries as conditions: the key split at dots into a path, the value as text. */
export function parseWhere(entries: readonly string[]): RunCondition[] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const path = eq > 0 ? entry.slice(0, eq).split('.') : [];
    if (path.length === 0 || path.some((part) => part === '')) {
      throw new UsageError(
        `--where '${entry}' is not of the form <key>=<value>.`,
        "The key is a dotted path into the run's config.json, e.g. --where training.globalSteps=400.",
      );
    }
    return { path, value: entry.slice(eq + 1) };
  });
}
