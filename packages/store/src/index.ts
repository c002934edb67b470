export type { Sql } from './sql.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations.js';
export {
  SqlRunStore,
  newestPerSeed,
  type RunRecord,
  type RunFilter,
  type RunCondition,
  type RunListing,
  type TrainingListing,
  type TrainingRecord,
  type CheckpointListing,
} from './run-store.js';
export { openRunStore, storeWriter } from './open.js';
export { readRunDir } from './run-dir.js';
export { exportRunDir } from './export-run.js';
export { defaultStoreLocation } from './location.js';
export { parseSince } from './since.js';
