import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { L2oError, type DatasetContext, type DatasetInfo, type DownloadProgress } from '@l2o/core';
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
  const present = (base: string) => Object.keys(source.files).every((f) => existsSync(path.join(base, f)));
  if (ctx.dataDir && present(ctx.dataDir)) return { base: ctx.dataDir, where: 'data-dir' };
  if (present(cacheRawDir(ctx))) return { base: cacheRawDir(ctx), where: 'cache' };
  return undefined;
}

/**
 * The folder holding a source's verified raw files: the data directory (checked against the
 * official checksums), the cache (verified when it was filled), or a download when allowed.
 * Otherwise fails with both ways to provide them.
 */
export async function locateRaw(source: RawSource, ctx: DatasetContext, onProgress?: DownloadProgress): Promise<string> {
  const found = findRaw(source, ctx);
  if (found?.where === 'data-dir') {
    const problems = await verify(source, found.base);
    if (problems.length) {
      throw new L2oError(`The ${source.id} files in ${found.base} are not the official ones: ${summary(problems)}.`, 'Replace them, or unset L2O_DATA_DIR to use a download.');
    }
    return found.base;
  }
  if (found) return found.base;
  if (ctx.dataDir && !found) {
    ctx.log(`${source.id}: not in ${ctx.dataDir} (expected ${source.root}/ as in ../shared/datasets)`);
  }
  if (ctx.allowDownload) {
    await fetchRaw(source, ctx, onProgress);
    return cacheRawDir(ctx);
  }
  throw new L2oError(
    `Dataset ${source.id} is not available locally.`,
    `Point --data-dir (or L2O_DATA_DIR) at a folder with ${source.root} laid out as ../shared/datasets, or run \`l2o datasets fetch ${source.id}\` (or pass --download) to download it from ${source.url()}.`,
  );
}

/** Streams a URL into a file, following redirects; fails on HTTP errors and short bodies. */
async function download(url: string, file: string, onProgress?: DownloadProgress): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new L2oError(`Download of ${url} failed: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}.`, 'Check the network, or give the files with --data-dir.');
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
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), counter, createWriteStream(file));
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
        if (err || !stream) return reject(err);
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
    checksums: source.files as Record<string, string>,
    citation: source.citation,
  };
}
