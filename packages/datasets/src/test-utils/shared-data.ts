import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import type { DatasetContext } from '@l2o/core';

/** ../shared/datasets beside the repository (read-only in CI). */
export const SHARED_DATASETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/datasets');

export function tempContext(overrides: Partial<DatasetContext> = {}): DatasetContext {
  return { cacheDir: mkdtempSync(path.join(os.tmpdir(), 'l2o-datasets-')), allowDownload: false, log: () => {}, ...overrides };
}
