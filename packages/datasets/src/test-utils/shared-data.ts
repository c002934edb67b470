import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { DatasetContext } from '@l2o/core';
import { RAW_SOURCES, type RawSource } from '../raw/sources.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Small raw files committed with the package (packages/datasets/fixtures, not published), laid
 * out as ../shared/datasets: a 60-row sample of UCI Ionosphere, a 200-row sample of Spambase,
 * and 5 of the 200 BSDS500 test images. See fixtures/README.md. Behaviour tests use
 * these, so they run on any clone.
 */
export const FIXTURES = path.resolve(here, '../../fixtures');

/** The BSDS500 test images among the fixtures (official files, so their official checksums). */
export const FIXTURE_IMAGES = ['106005.jpg', '196027.jpg', '35028.jpg', '43051.jpg', '70011.jpg'] as const;

/** The Ionosphere sample among the fixtures: rows 1–60 (30 labelled g, 30 labelled b). */
export const IONOSPHERE_SAMPLE = 'uci/ionosphere-sample.data';

/** The Spambase sample among the fixtures: rows 1–100 (spam) and 4502–4601 (not spam). */
export const SPAMBASE_SAMPLE = 'uci/spambase-sample.data';

/** The fixtures' SHA256SUMS: relative path → SHA-256. */
export function fixtureSums(): Record<string, string> {
  const lines = readFileSync(path.join(FIXTURES, 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  return Object.fromEntries(
    lines.map((l) => {
      const [sum, file] = l.split(/\s+\*?/, 2) as [string, string];
      return [file, sum];
    }),
  );
}

/** BSDS500 restricted to the fixture images (their official checksums): the dataset works on these 5 images. */
export function fixtureBsds500(): RawSource {
  const sums = fixtureSums();
  return sourceWith('bsds500', { files: Object.fromEntries(FIXTURE_IMAGES.map((f) => [`bsds500/images/test/${f}`, sums[`bsds500/images/test/${f}`]!])) });
}

/** Ionosphere read from the 60-row sample among the fixtures. */
export function fixtureIonosphere(): RawSource {
  return sourceWith('ionosphere', { root: IONOSPHERE_SAMPLE, files: { [IONOSPHERE_SAMPLE]: fixtureSums()[IONOSPHERE_SAMPLE]! } });
}

/** Spambase read from the 200-row sample among the fixtures. */
export function fixtureSpambase(): RawSource {
  return sourceWith('spambase', { root: SPAMBASE_SAMPLE, files: { [SPAMBASE_SAMPLE]: fixtureSums()[SPAMBASE_SAMPLE]! } });
}

/** ../shared/datasets beside the repository (read-only in CI): the full raw data, when present. */
export const SHARED_DATASETS = path.resolve(here, '../../../../../shared/datasets');

/**
 * Where the FULL raw files of a dataset are (all 200 BSDS500 images, the whole UCI files):
 * `L2O_DATA_DIR` first, then ../shared/datasets; undefined when neither holds them all. Tests
 * that need the full set are skipped then, with a warning naming the folders looked at.
 *
 * `L2O_TEST_NO_SHARED=1` pretends neither is there (it ignores both `L2O_DATA_DIR` and
 * ../shared/datasets), to check that the tests pass on a fresh clone:
 * `L2O_TEST_NO_SHARED=1 npx vitest run` in packages/datasets.
 */
export function fullData(id: string): string | undefined {
  const source = RAW_SOURCES[id]!;
  const candidates = [process.env.L2O_DATA_DIR, SHARED_DATASETS].filter((d): d is string => Boolean(d));
  const found = process.env.L2O_TEST_NO_SHARED ? undefined : candidates.find((dir) => Object.keys(source.files).every((f) => existsSync(path.join(dir, f))));
  if (!found) {
    const where = process.env.L2O_TEST_NO_SHARED
      ? 'L2O_TEST_NO_SHARED is set'
      : `looked in ${process.env.L2O_DATA_DIR ? `L2O_DATA_DIR=${process.env.L2O_DATA_DIR}` : 'L2O_DATA_DIR (unset)'} and ${SHARED_DATASETS}`;
    console.warn(`Skipping the tests that need the full ${id} data set: ${where}. They run when L2O_DATA_DIR or ../shared/datasets holds ${source.root}.`);
  }
  return found;
}

/** A copy of an official source with other files (relative path → SHA-256) or root, e.g. the fixtures. */
export function sourceWith(id: string, changes: Partial<Pick<RawSource, 'files' | 'root'>>): RawSource {
  return { ...RAW_SOURCES[id]!, ...changes };
}

export function tempContext(overrides: Partial<DatasetContext> = {}): DatasetContext {
  return { cacheDir: mkdtempSync(path.join(os.tmpdir(), 'l2o-datasets-')), allowDownload: false, log: () => {}, ...overrides };
}
