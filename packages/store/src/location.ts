import os from 'node:os';
import path from 'node:path';

/** Where runs are stored when neither --store nor L2O_STORE says: $XDG_DATA_HOME/l2o/store. */
export function defaultStoreLocation(env: NodeJS.ProcessEnv = process.env): string {
  if (env.L2O_STORE) return env.L2O_STORE;
  const data = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'l2o', 'store');
}
