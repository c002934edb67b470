import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SHARED_DATASETS, runCli, expectOneLineError, args } from '../../test-utils/run-cli.js';

const FIXTURES = path.join(REPO_ROOT, 'packages/datasets/fixtures');
// The official files themselves (the fixtures are excerpts): L2O_DATA_DIR or ../shared/datasets.
const dataDir = process.env.L2O_DATA_DIR || SHARED_DATASETS;
const fullData = existsSync(path.join(dataDir, 'uci/ionosphere.data'));
if (!fullData) console.warn(`datasets info test: skipping --verify on the official files: none in ${dataDir} (set L2O_DATA_DIR)`);
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-cli-datasets-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cache = path.join(temp, 'cache');

/** A data directory with 3 of the 5 BSDS500 fixture images (of the 200 the dataset needs). */
const partial = path.join(temp, 'partial');
const kept = ['106005.jpg', '35028.jpg', '70011.jpg'];
mkdirSync(path.join(partial, 'bsds500/images/test'), { recursive: true });
for (const f of kept) copyFileSync(path.join(FIXTURES, 'bsds500/images/test', f), path.join(partial, 'bsds500/images/test', f));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const missingLine = `197 of 200 files missing in ${path.join(partial, 'bsds500')} (images/test/100007.jpg, images/test/100039.jpg, images/test/100099.jpg, …)`;

describe('l2o datasets info', () => {
  it('--verify names the missing files of a partial folder and exits with code 1', () => {
    const r = runCli(['datasets', 'info', 'bsds500', '--verify', '--data-dir', partial, '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`files: missing, ${missingLine}`);
    expect(r.stdout).toContain(`verified: no, ${missingLine}`);
    expectOneLineError(
      r.stderr,
      new RegExp(`^Error: bsds500: verification failed: ${escape(missingLine)}\\. Restore the missing files, or run \`l2o datasets fetch bsds500\``),
    );
  });

  it('--verify --json says verified: false and lists every missing file', () => {
    const r = runCli(['datasets', 'info', 'bsds500', '--verify', '--json', '--data-dir', partial, '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as {
      present: boolean;
      verified: boolean | null;
      verification: { missing: string[]; files: number };
      error: { message: string; exitCode: number };
    };
    expect([out.present, out.verified, out.verification.files, out.verification.missing.length]).toEqual([false, false, 200, 197]);
    expect(out.error).toMatchObject({ message: `bsds500: verification failed: ${missingLine}.`, exitCode: 1 });
    expect(out.verification.missing).toContain('bsds500/images/test/2018.jpg');
    for (const f of kept) expect(out.verification.missing).not.toContain(`bsds500/images/test/${f}`);
    expectOneLineError(r.stderr, /verification failed: 197 of 200 files missing/);
  });

  it('without --verify names the missing files, says the checksums were not verified, and succeeds', () => {
    const r = runCli(['datasets', 'info', 'bsds500', '--data-dir', partial, '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`files: missing, ${missingLine}`);
    expect(r.stdout).toContain('checksums: not verified (use --verify)');
    const json = runCli(['datasets', 'info', 'bsds500', '--json', '--data-dir', partial, '--cache-dir', cache]);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { verified: unknown }).verified).toBeNull();
  });

  it.skipIf(!fullData)('--verify accepts the official files', () => {
    const ok = runCli(['datasets', 'info', 'ionosphere', '--verify', '--data-dir', dataDir, '--cache-dir', cache]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^verified: 1 file$/m);
    const json = runCli(['datasets', 'info', 'ionosphere', '--verify', '--json', '--data-dir', dataDir, '--cache-dir', cache]);
    expect((JSON.parse(json.stdout) as { verified: unknown }).verified).toBe(true);
  });

  it('--verify refuses files that are not the official ones', () => {
    const altered = path.join(temp, 'altered');
    mkdirSync(path.join(altered, 'uci'), { recursive: true });
    writeFileSync(path.join(altered, 'uci/ionosphere.data'), '1,0,g\n');
    const bad = runCli(['datasets', 'info', 'ionosphere', '--verify', '--data-dir', altered, '--cache-dir', cache]);
    expect(bad.code).toBe(1);
    expectOneLineError(bad.stderr, /ionosphere: verification failed: 1 file not matching the official SHA-256 \(uci\/ionosphere\.data\)\. Replace the files/);
  });

  it('generated datasets have nothing to verify', () => {
    const r = runCli(['datasets', 'info', 'synthetic', '--verify', '--json', '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { verified: unknown }).verified).toBeNull();
  });
});

describe('a command that needs a partial dataset', () => {
  it('fails with one line naming the missing files', () => {
    const r = runCli(
      args`run --optimizer fista --problem lasso --dataset bsds500 --data-dir ${partial} --cache-dir ${cache} --runs-dir ${path.join(temp, 'runs')}`,
    );
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, new RegExp(`^Error: Dataset bsds500 is not available locally: ${escape(missingLine)}\\. Point --data-dir`));
  });
});
