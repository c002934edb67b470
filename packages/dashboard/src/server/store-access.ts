import { openRunStore, type SqlRunStore } from '@l2o/store';

/**
 * The run store as the dashboard uses it: opened when a request needs it and closed after a
 * second with no request. An embedded store admits one process at a time, so a dashboard left
 * open must not keep `l2o run` from storing its run for longer than a page load.
 */
export class StoreAccess {
  private store: Promise<SqlRunStore> | null = null;
  private users = 0;
  private idle: NodeJS.Timeout | null = null;

  constructor(
    readonly location: string,
    private readonly idleMs = 1000,
  ) {}

  async use<T>(fn: (store: SqlRunStore) => Promise<T>): Promise<T> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.users++;
    try {
      this.store ??= openRunStore(this.location, { waitForLockMs: 30_000 });
      let store: SqlRunStore;
      try {
        store = await this.store;
      } catch (e) {
        this.store = null;
        throw e;
      }
      return await fn(store);
    } finally {
      if (--this.users === 0) this.idle = setTimeout(() => void this.release(), this.idleMs);
    }
  }

  private async release(): Promise<void> {
    const open = this.store;
    this.store = null;
    this.idle = null;
    if (open) await (await open.catch(() => null))?.close();
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    await this.release();
  }
}
