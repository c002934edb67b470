import { BSDS500_TEST_SHA256, UCI_SHA256 } from '../fetch/checksums.js';

/**
 * The raw files a dataset needs, where they live (relative to the data directory, --data-dir,
 * or to the cache's raw/ folder) and the official archive they come from.
 */
export interface RawSource {
  id: string;
  /** Folder or file (relative) that is moved into the cache as a whole. */
  root: string;
  /** Relative path of every file → its SHA-256. */
  files: Readonly<Record<string, string>>;
  /** The official archive, overridable for mirrors and tests. */
  url: () => string;
  archive: 'tgz' | 'zip';
  /** Path inside the archive of a file, from its relative path. */
  entryOf: (relative: string) => string;
  citation: string;
}

const BSDS500_URL = 'https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz';
const UCI_BASE = 'https://archive.ics.uci.edu/static/public';

const prefixed = (prefix: string, table: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(table).map(([name, sum]) => [`${prefix}${name}`, sum]));

export const RAW_SOURCES: Readonly<Record<string, RawSource>> = {
  bsds500: {
    id: 'bsds500',
    root: 'bsds500',
    files: prefixed('bsds500/images/test/', BSDS500_TEST_SHA256),
    url: () => process.env.L2O_BSDS500_URL || BSDS500_URL,
    archive: 'tgz',
    entryOf: (relative) => `BSR/BSDS500/data/images/test/${relative.split('/').at(-1)}`,
    citation: 'Martin, Fowlkes, Tal, Malik. A database of human segmented natural images. ICCV 2001 (BSDS500 test images).',
  },
  ionosphere: {
    id: 'ionosphere',
    root: 'uci/ionosphere.data',
    files: { 'uci/ionosphere.data': UCI_SHA256['ionosphere.data']! },
    url: () => `${process.env.L2O_UCI_BASE_URL || UCI_BASE}/52/ionosphere.zip`,
    archive: 'zip',
    entryOf: () => 'ionosphere.data',
    citation: 'Sigillito et al. UCI Machine Learning Repository: Ionosphere (dataset 52).',
  },
  spambase: {
    id: 'spambase',
    root: 'uci/spambase.data',
    files: { 'uci/spambase.data': UCI_SHA256['spambase.data']! },
    url: () => `${process.env.L2O_UCI_BASE_URL || UCI_BASE}/94/spambase.zip`,
    archive: 'zip',
    entryOf: () => 'spambase.data',
    citation: 'Hopkins, Reeber, Forman, Suermondt. UCI Machine Learning Repository: Spambase (dataset 94).',
  },
};
