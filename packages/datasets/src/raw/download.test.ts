import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBsds500Dataset } from '../bsds500/bsds500.js';
import { createUciDataset } from '../uci/uci.js';
import { FIXTURES, FIXTURE_IMAGES, IONOSPHERE_SAMPLE, fixtureBsds500, fixtureIonosphere, fullData, tempContext } from '../test-utils/shared-data.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'l2o-download-'));
const archives: Record<string, Buffer> = {};
let server: http.Server;
let base = '';

const fullBsds = fullData('bsds500');
/** BSDS500 restricted to the 5 fixture images: the archives below hold just these. */
const bsds500 = () => createBsds500Dataset(fixtureBsds500());

/** A .tgz with the official BSR layout, built from the images in `from`; `edit` alters the tree. */
async function bsdsArchive(name: string, edit: (dir: string) => void = () => {}, from = FIXTURES): Promise<void> {
  const root = path.join(work, name);
  const dir = path.join(root, 'BSR/BSDS500/data/images/test');
  mkdirSync(dir, { recursive: true });
  const source = path.join(from, 'bsds500/images/test');
  for (const f of readdirSync(source)) copyFileSync(path.join(source, f), path.join(dir, f));
  edit(dir);
  const file = path.join(work, `${name}.tgz`);
  await tar.c({ gzip: true, file, cwd: root, portable: true }, ['BSR']);
  archives[`/${name}.tgz`] = readFileSync(file);
}

async function zipOf(entry: string, content: Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(content, entry);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  await bsdsArchive('ok');
  await bsdsArchive('missing', (dir) => rmSync(path.join(dir, FIXTURE_IMAGES[0])));
  await bsdsArchive('corrupt', (dir) => writeFileSync(path.join(dir, FIXTURE_IMAGES[1]), Buffer.from('not the image')));
  // The official zip layout (entry ionosphere.data) holding the 60-row Ionosphere sample.
  archives['/52/ionosphere.zip'] = await zipOf('ionosphere.data', readFileSync(path.join(FIXTURES, IONOSPHERE_SAMPLE)));
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/cut.tgz') {
      // Announce the whole archive, send a third of it, then drop the connection.
      const body = archives['/ok.tgz']!;
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, Math.floor(body.length / 3)), () => res.socket?.destroy());
      return;
    }
    if (url === '/moved.tgz') {
      res.writeHead(302, { location: '/ok.tgz' });
      res.end();
      return;
    }
    const body = archives[url];
    if (!body) {
      res.writeHead(404, 'Not Found');
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
  delete process.env.L2O_BSDS500_URL;
  delete process.env.L2O_UCI_BASE_URL;
});

/** What the cache holds besides nothing: files under raw/ and any leftover temporary folder. */
function cacheEntries(cacheDir: string): string[] {
  return existsSync(cacheDir)
    ? readdirSync(cacheDir, { recursive: true })
        .map(String)
        .filter((p) => !['raw', 'raw/bsds500', 'raw/uci'].includes(p))
    : [];
}

describe('downloads', () => {
  it('downloads, verifies and caches BSDS500, following a redirect, with progress', async () => {
    process.env.L2O_BSDS500_URL = `${base}/moved.tgz`;
    const ctx = tempContext();
    const progress: number[] = [];
    const info = await bsds500().fetch!(ctx, (done) => progress.push(done));
    expect(info.present).toBe(true);
    expect(readdirSync(path.join(ctx.cacheDir, 'raw/bsds500/images/test')).sort()).toEqual([...FIXTURE_IMAGES].sort());
    expect(progress.at(-1)).toBe(archives['/ok.tgz']!.length);
    expect(cacheEntries(ctx.cacheDir).filter((p) => p.startsWith('.fetch'))).toEqual([]);
  });

  it.each([
    ['HTTP error', '/nothing-here.tgz', /failed: HTTP 404 Not Found/],
    ['connection cut mid-file', '/cut.tgz', /was cut after \d+ of \d+ bytes/],
    ['wrong checksum', '/corrupt.tgz', new RegExp(`do not match the official checksums: bsds500/images/test/${FIXTURE_IMAGES[1]} has SHA-256`)],
    ['archive missing a file', '/missing.tgz', new RegExp(`lacks 1 expected file\\(s\\): bsds500/images/test/${FIXTURE_IMAGES[0]} is missing`)],
  ])('fails on %s with the reason and leaves the cache untouched', async (_case, route, message) => {
    process.env.L2O_BSDS500_URL = `${base}${route}`;
    const ctx = tempContext();
    await expect(bsds500().fetch!(ctx)).rejects.toThrow(message);
    expect(cacheEntries(ctx.cacheDir)).toEqual([]);
  });

  it.skipIf(!fullBsds)('downloads the full official archive layout and verifies all 200 images against the official checksums', async () => {
    await bsdsArchive('full', () => {}, fullBsds);
    process.env.L2O_BSDS500_URL = `${base}/full.tgz`;
    const ctx = tempContext();
    const info = await createBsds500Dataset().fetch!(ctx);
    expect(info.present).toBe(true);
    expect(readdirSync(path.join(ctx.cacheDir, 'raw/bsds500/images/test'))).toHaveLength(200);
  });

  it('downloads a UCI zip when --download is given, and uses it', async () => {
    process.env.L2O_UCI_BASE_URL = base;
    const ctx = tempContext({ allowDownload: true });
    const { Rng } = await import('@l2o/core');
    // The sample's source: the official URL and zip entry, the sample's path and checksum.
    const set = await createUciDataset('ionosphere', fixtureIonosphere()).instances(
      { problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} },
      ctx,
    );
    expect([set.m, set.n]).toEqual([60, 34]);
    expect(existsSync(path.join(ctx.cacheDir, 'raw', IONOSPHERE_SAMPLE))).toBe(true);
  });

  it('rejects a data directory whose files are not the official ones', async () => {
    const dataDir = path.join(work, 'bad-data');
    mkdirSync(path.join(dataDir, 'uci'), { recursive: true });
    const stream = createWriteStream(path.join(dataDir, 'uci/spambase.data'));
    stream.end('1,2,3\n');
    await new Promise<void>((r) => stream.on('finish', () => r()));
    const { Rng } = await import('@l2o/core');
    await expect(
      createUciDataset('spambase').instances({ problem: 'logistic-l1', split: 'test', count: 1, rng: new Rng(0), options: {} }, tempContext({ dataDir })),
    ).rejects.toThrow(/spambase files in .* are not the official ones: uci\/spambase\.data has SHA-256/);
  });
});
