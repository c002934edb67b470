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

/** A UCI set: one `<name>.data` file, alone in the zip of UCI dataset `number`, cached under uci/. */
function uciSource(name: string, number: number, citation: string): RawSource {
  const file = `${name}.data`;
  return {
    id: name,
    root: `uci/${file}`,
    files: { [`uci/${file}`]: UCI_SHA256[file]! },
    url: () => `${process.env.L2O_UCI_BASE_URL || UCI_BASE}/${number}/${name}.zip`,
    archive: 'zip',
    entryOf: () => file,
    citation,
  };
}

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
  ionosphere: uciSource('ionosphere', 52, 'Sigillito et al. UCI Machine Learning Repository: Ionosphere (dataset 52).'),
  spambase: uciSource('spambase', 94, 'Hopkins, Reeber, Forman, Suermondt. UCI Machine Learning Repository: Spambase (dataset 94).'),
};
