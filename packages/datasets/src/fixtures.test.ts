import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from './raw/raw-files.js';
import { BSDS500_TEST_SHA256, UCI_SHA256 } from './fetch/checksums.js';
import { FIXTURES, FIXTURE_IMAGES, fixtureSums } from './test-utils/shared-data.js';

describe('test fixtures', () => {
  const sums = fixtureSums();

  it('match their SHA256SUMS, which lists every fixture file', async () => {
    const files = readdirSync(FIXTURES, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !['README.md', 'SHA256SUMS', '.gitattributes'].includes(e.name))
      .map((e) => path.relative(FIXTURES, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
    expect(Object.keys(sums).sort()).toEqual(files);
    for (const [file, sum] of Object.entries(sums)) expect(await sha256File(path.join(FIXTURES, file)), file).toBe(sum);
  });

  it('are official files (≤ 5 BSDS500 images) and UCI excerpts (Ionosphere, Spambase), never the full UCI files', () => {
    expect(Object.keys(sums)).not.toContain('uci/ionosphere.data');
    expect(Object.keys(sums)).not.toContain('uci/spambase.data');
    expect(FIXTURE_IMAGES.length).toBeLessThanOrEqual(5);
    for (const f of FIXTURE_IMAGES) expect(sums[`bsds500/images/test/${f}`], f).toBe(BSDS500_TEST_SHA256[f]);
    expect(sums['uci/ionosphere-sample.data']).not.toBe(UCI_SHA256['ionosphere.data']);
    expect(sums['uci/spambase-sample.data']).not.toBe(UCI_SHA256['spambase.data']);
  });

  it('are not published with the package', () => {
    const pkg = JSON.parse(readFileSync(path.join(FIXTURES, '../package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files.filter((f) => !f.startsWith('!') && /fixtures|^\*|^\.$/.test(f))).toEqual([]);
  });
});
