import { Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { defaultStoreLocation, openRunStore, type SqlRunStore } from '@l2o/store';

/** The run store flag every `l2o runs` command shares. */
export const storeFlag = {
  store: Flags.string({
    summary: "Run store: a folder (embedded PostgreSQL, the default $XDG_DATA_HOME/l2o/store), postgres://user@host:port/db, or 'off'.",
    env: 'L2O_STORE',
  }),
};

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
