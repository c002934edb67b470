import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { L2oError, type Dataset, type DatasetContext, type DatasetInfo, type DownloadProgress } from '@l2o/core';
import type { RawSource } from './sources.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Checks that every file of a source is under `base` with its checksum; returns the problems. */
async function verify(source: RawSource, base: string): Promise<string[]> {
  const problems: string[] = [];
  for (const [relative, expected] of Object.entries(source.files)) {
    const file = path.join(base, relative);
    if (!existsSync(file)) {
      problems.push(`${relative} is missing`);
      continue;
    }
    const got = await sha256File(file);
    if (got !== expected) problems.push(`${relative} has SHA-256 ${got.slice(0, 12)}…, expected ${expected.slice(0, 12)}…`);
  }
  return problems;
}

const cacheRawDir = (ctx: DatasetContext) => path.join(ctx.cacheDir, 'raw');
const summary = (problems: string[]) => `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`;

export interface LocatedRaw {
  base: string;
  where: 'data-dir' | 'cache';
}

/** Where a source's raw files are, without downloading: the data directory, then the cache. */
export function findRaw(source: RawSource, ctx: DatasetContext): LocatedRaw | undefined {
  if (ctx.dataDir && !missingFiles(source, ctx.dataDir).length) return { base: ctx.dataDir, where: 'data-dir' };
  if (!missingFiles(source, cacheRawDir(ctx)).length) return { base: cacheRawDir(ctx), where: 'cache' };
  return undefined;
}

/** The files of a source (relative paths, in table order) that are not under `base`. */
export function missingFiles(source: RawSource, base: string): string[] {
  return Object.keys(source.files).filter((f) => !existsSync(path.join(base, f)));
}

/** The folder a source's files are shown in (its root folder, or `base` when the root is a file), and paths relative to it. */
function shownIn(source: RawSource, base: string): { dir: string; rel: (file: string) => string } {
  const prefix = `${source.root}/`;
  return Object.keys(source.files).every((f) => f.startsWith(prefix))
    ? { dir: path.join(base, source.root), rel: (f) => f.slice(prefix.length) }
    : { dir: base, rel: (f) => f };
}

/** The first few of a list, then '…' when there are more. */
const firstFew = (items: string[], few = 3) => `${items.slice(0, few).join(', ')}${items.length > few ? ', …' : ''}`;

/** E.g. "100 of 200 files missing in /x/bsds500 (images/test/2018.jpg, images/test/20069.jpg, images/test/201080.jpg, …)". */
export function missingSummary(source: RawSource, base: string, missing: string[]): string {
  const { dir, rel } = shownIn(source, base);
  const total = Object.keys(source.files).length;
  return `${missing.length} of ${total} file${total === 1 ? '' : 's'} missing in ${dir} (${firstFew(missing.map(rel))})`;
}

/**
 * The folder holding a source's verified raw files: the data directory (checked against the
 * official checksums), the cache (verified when it was filled), or a download when allowed.
 * Otherwise fails with the files missing and both ways to provide them.
 */
export async function locateRaw(source: RawSource, ctx: DatasetContext, onProgress?: DownloadProgress): Promise<string> {
  const found = findRaw(source, ctx);
  if (found?.where === 'data-dir') {
    const problems = await verify(source, found.base);
    if (problems.length) {
      throw new L2oError(
        `The ${source.id} files in ${found.base} are not the official ones: ${summary(problems)}.`,
        'Replace them, or unset L2O_DATA_DIR to use a download.',
      );
    }
    return found.base;
  }
  // The data directory lacks some files (found is the cache, or nothing): say which.
  const dataDirGap = ctx.dataDir ? missingSummary(source, ctx.dataDir, missingFiles(source, ctx.dataDir)) : undefined;
  if (dataDirGap) ctx.log(`${source.id}: ${dataDirGap}${found ? '; using the cached copy' : ''}`);
  if (found) return found.base;
  if (ctx.allowDownload) {
    await fetchRaw(source, ctx, onProgress);
    return cacheRawDir(ctx);
  }
  // A cache with some files only (e.g. deleted by hand) is worth naming too.
  const cacheMissing = missingFiles(source, cacheRawDir(ctx));
  const cacheGap =
    cacheMissing.length < Object.keys(source.files).length ? `in the cache, ${missingSummary(source, cacheRawDir(ctx), cacheMissing)}` : undefined;
  const gaps = [dataDirGap, cacheGap].filter(Boolean).join('; ');
  throw new L2oError(
    `Dataset ${source.id} is not available locally${gaps ? `: ${gaps}` : ''}.`,
    `Point --data-dir (or L2O_DATA_DIR) at a folder holding ${Object.keys(source.files)[0]}${Object.keys(source.files).length > 1 ? ` and the other ${Object.keys(source.files).length - 1} files beside it` : ''}, or run \`l2o datasets fetch ${source.id}\` (or pass --download) to download it from ${source.url()}.`,
  );
}

/** What `verifyRaw` found. */
export interface RawVerification {
  id: string;
  /** The folder checked: where all files were found, else the data directory, else the cache. */
  location: string;
  /** Number of files the source expects. */
  files: number;
  /** Relative paths of the missing files. */
  missing: string[];
  /** Relative paths of the files present whose SHA-256 differs from the official one (only when checksums are checked). */
  mismatched: string[];
  /** Whether the checksums were computed (false: presence only). */
  checksums: boolean;
  /** No file missing and (when checked) none mismatched. */
  ok: boolean;
  /** What is wrong, one phrase each: the missing files, then the altered ones. */
  problems: string[];
  /** One line: "verified: 200 files", "present: 200 files (checksums not verified)", or the problems. */
  summary: string;
}

/** A dataset backed by raw files, which can check them (`l2o datasets info --verify`). */
export interface VerifiableDataset extends Dataset {
  verify(ctx: DatasetContext, options?: { checksums?: boolean }): Promise<RawVerification>;
}

/**
 * Checks a source's raw files where they are (the data directory, then the cache) — all
 * present and, with `checksums`, each with its official SHA-256 — and says what is wrong.
 */
export async function verifyRaw(source: RawSource, ctx: DatasetContext, options: { checksums?: boolean } = {}): Promise<RawVerification> {
  const checksums = options.checksums ?? true;
  const base = findRaw(source, ctx)?.base ?? ctx.dataDir ?? cacheRawDir(ctx);
  const files = Object.keys(source.files);
  const missing = missingFiles(source, base);
  const mismatched: string[] = [];
  if (checksums) {
    for (const f of files) {
      if (!missing.includes(f) && (await sha256File(path.join(base, f))) !== source.files[f]) mismatched.push(f);
    }
  }
  const { rel } = shownIn(source, base);
  const problems = [
    ...(missing.length ? [missingSummary(source, base, missing)] : []),
    ...(mismatched.length
      ? [`${mismatched.length} file${mismatched.length === 1 ? '' : 's'} not matching the official SHA-256 (${firstFew(mismatched.map(rel))})`]
      : []),
  ];
  const ok = problems.length === 0;
  const summaryLine = ok
    ? `${checksums ? 'verified' : 'present'}: ${files.length} file${files.length === 1 ? '' : 's'}${checksums ? '' : ' (checksums not verified)'}`
    : problems.join('; ');
  return { id: source.id, location: base, files: files.length, missing, mismatched, checksums, ok, problems, summary: summaryLine };
}

/** Streams a URL into a file, following redirects; fails on HTTP errors and short bodies. */
async function download(url: string, file: string, onProgress?: DownloadProgress): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new L2oError(
      `Download of ${url} failed: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}.`,
      'Check the network, or give the files with --data-dir.',
    );
  }
  if (!response.ok || !response.body) {
    throw new L2oError(`Download of ${url} failed: HTTP ${response.status} ${response.statusText}.`, 'Check the URL, or give the files with --data-dir.');
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      done += chunk.length;
      onProgress?.(done, total, path.basename(url));
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body), counter, createWriteStream(file));
  } catch (e) {
    throw new L2oError(`Download of ${url} was cut after ${done} of ${total ?? '?'} bytes: ${(e as Error).message}.`, 'Try again.');
  }
  if (total !== undefined && done !== total) {
    throw new L2oError(`Download of ${url} was cut after ${done} of ${total} bytes.`, 'Try again.');
  }
}

async function extractZipEntries(zipFile: string, wanted: Map<string, string>): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(zipFile, { lazyEntries: true }, (err, z) => (err || !z ? reject(err ?? new Error('no zip')) : resolve(z))),
  ).catch((e: Error) => {
    throw new L2oError(`The downloaded file is not a valid zip archive: ${e.message}.`, 'Try again; if it persists, the source has changed.');
  });
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      const target = wanted.get(entry.fileName);
      if (!target) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(err ?? new Error(`${entry.fileName}: no data in the archive`));
        mkdirSync(path.dirname(target), { recursive: true });
        pipeline(stream, createWriteStream(target)).then(() => zip.readEntry(), reject);
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
}

/**
 * Downloads a source's archive into a temporary folder of the cache, extracts the files it
 * needs, verifies their checksums, and only then moves them into the cache (one rename). Any
 * failure leaves the cache as it was.
 */
export async function fetchRaw(source: RawSource, ctx: DatasetContext, onProgress?: DownloadProgress): Promise<string> {
  const rawDir = cacheRawDir(ctx);
  mkdirSync(rawDir, { recursive: true });
  const work = mkdtempSync(path.join(ctx.cacheDir, `.fetch-${source.id}-`));
  try {
    const url = source.url();
    const archive = path.join(work, `archive.${source.archive}`);
    ctx.log(`${source.id}: downloading ${url}`);
    await download(url, archive, onProgress);
    const staged = path.join(work, 'staged');
    const wanted = new Map(Object.keys(source.files).map((rel) => [source.entryOf(rel), path.join(staged, rel)]));
    if (source.archive === 'tgz') {
      const extracted = path.join(work, 'extracted');
      mkdirSync(extracted);
      try {
        await tar.x({ file: archive, cwd: extracted, strict: true, filter: (p) => wanted.has(p.replace(/^\.\//, '')) });
      } catch (e) {
        throw new L2oError(`The downloaded archive of ${source.id} could not be extracted: ${(e as Error).message}.`, 'Try again.');
      }
      for (const [entry, target] of wanted) {
        const from = path.join(extracted, entry);
        if (!existsSync(from)) continue; // reported by the verification below
        mkdirSync(path.dirname(target), { recursive: true });
        renameSync(from, target);
      }
    } else {
      await extractZipEntries(archive, wanted);
    }
    const problems = await verify(source, staged);
    if (problems.length) {
      const missing = problems.filter((p) => p.endsWith('is missing'));
      throw new L2oError(
        missing.length
          ? `The archive of ${source.id} from ${url} lacks ${missing.length} expected file(s): ${summary(missing)}.`
          : `The files of ${source.id} from ${url} do not match the official checksums: ${summary(problems)}.`,
        'Nothing was cached. Check the source URL.',
      );
    }
    const target = path.join(rawDir, source.root);
    mkdirSync(path.dirname(target), { recursive: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(path.join(staged, source.root), target);
    return rawDir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Total size of a source's files under a folder. */
export function rawSize(source: RawSource, base: string): number {
  return Object.keys(source.files).reduce((sum, f) => sum + statSync(path.join(base, f)).size, 0);
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

/** Provenance and presence of a dataset backed by raw files. */
export function describeRaw(source: RawSource, ctx: DatasetContext, about: { serves: readonly string[]; description: string }): DatasetInfo {
  const found = findRaw(source, ctx);
  return {
    id: source.id,
    ...about,
    needsFiles: true,
    present: Boolean(found),
    location: found ? path.join(found.base, source.root) : undefined,
    sizeBytes: found ? rawSize(source, found.base) : undefined,
    sources: [source.url()],
    checksums: source.files,
    citation: source.citation,
  };
}
