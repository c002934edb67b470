import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERDICTS_BEGIN, VERDICTS_END } from '@l2o/report';
import { args, expectOneLineError, REPO_ROOT, runCli } from './test-utils/run-cli.js';

// The results pipeline at smoke scale, as docs/results is made at cpu scale: runs of a figure over
// seeds into a store, then `l2o results` generates the figure's page and the verdict table.
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-results-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const env = { L2O_STORE: path.join(temp, 'store'), L2O_CACHE_DIR: path.join(temp, 'cache') };

describe('l2o results', () => {
  it("generates each stored figure's page over its seeds and the verdicts, into the README's verdict block", () => {
    const spec = path.join(REPO_ROOT, 'experiments/paper/fig1.yaml');
    const run = runCli(args`experiment run ${spec} --scale smoke --seeds 0..1 --runs-dir ${path.join(temp, 'runs')}`, { env });
    expect(run.code, run.stderr).toBe(0);
    const out = path.join(temp, 'results');
    const readme = path.join(out, 'README.md');
    // A hand-written README with the verdict markers: only the block between them is replaced.
    const before = `# Results\n\nHand-written protocol notes.\n\n${VERDICTS_BEGIN}\nold table\n${VERDICTS_END}\n\nMore notes.\n`;
    mkdirSync(out, { recursive: true });
    writeFileSync(readme, before);
    // Two seeds here: they decide claims when asked to (the default waits for three, below).
    const r = runCli(args`results --scale smoke --out ${out} --min-seeds 2 --json`, { env });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { files: string[]; verdicts: { claim: number | string; verdict: string; figures: string[]; why: string }[] };
    for (const f of ['fig1.md', 'fig1.svg', 'fig1.png', 'fig1-validation.svg', 'fig1-validation.png', 'README.md'])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    // The validation curves: a point per validation of every training of both seeds (their logs in the run directories).
    const logs = readdirSync(path.join(temp, 'runs')).flatMap((run) =>
      readdirSync(path.join(temp, 'runs', run, 'training')).map(
        (f) => JSON.parse(readFileSync(path.join(temp, 'runs', run, 'training', f), 'utf8')) as { validation: unknown[] },
      ),
    );
    expect(logs).toHaveLength(2 * 4);
    const validationSvg = readFileSync(path.join(out, 'fig1-validation.svg'), 'utf8');
    expect(validationSvg.match(/aria-roledescription="point"/g)).toHaveLength(logs.reduce((a, l) => a + l.validation.length, 0));
    const page = readFileSync(path.join(out, 'fig1.md'), 'utf8');
    expect(page).toMatch(/^# fig1 over 2 seeds \(smoke scale\)/);
    expect(page).toContain('seeds 0, 1');
    expect(page).toContain('engine wasm+l2o-kernels'); // WASM with the platform's kernels (the default)
    expect(page).toMatch(/commit [0-9a-f]{7}(-dirty)?;/);
    expect(page).toContain('`l2o sweep experiments/paper/fig1.yaml --scale smoke --seeds 0,1');
    // What the runs were trained and tested with: fig1.yaml's smoke settings, as the runs recorded them.
    expect(page).toContain(
      'Protocol: meta-trained 2 global steps of 8 instances (K = 20 in segments of 10), Adam 0.01, validated every 2 steps on 8 instances (20 iterations), on a non-finite loss stop; tested on 8 instances for 30 iterations.',
    );
    expect(page).toMatch(/\| lstm \|/);
    expect(page).toContain('![fig1 validation](fig1-validation.png)');
    // The claims the figure bears on, as the dashboard shows them beside it.
    expect(page).toMatch(
      /\n## Verdict\n\n- Claim 1 \(In distribution \(LASSO\): gru is best; gru-mha is on par with lstm\.\): \*\*(holds|does not hold|inconclusive)\*\*\./,
    );
    // Claim 1 is judged from fig1, for gru-mha and gru-mha-history (1b); claims 2–4 need figures not run here; claim 5 from the parameter counts.
    expect(result.verdicts.map((v) => v.claim)).toEqual([1, '1b', 2, 3, 4, 5]);
    expect(['holds', 'does not hold', 'inconclusive']).toContain(result.verdicts[0]!.verdict);
    expect(['holds', 'does not hold', 'inconclusive']).toContain(result.verdicts[1]!.verdict);
    expect(result.verdicts.slice(2, 5).map((v) => v.verdict)).toEqual(['not run', 'not run', 'not run']);
    expect(result.verdicts[5]!.verdict).toBe('does not hold');
    // Decided from the runs' per-instance results: the why names a paired comparison; the table counts diverged instances.
    expect(result.verdicts[0]!.why).toMatch(/ vs .+ at k = \d+: median log10 gap ratio [+−]\d\.\d\d \[/);
    expect(page).toContain('diverged instances (per seed)');
    const after = readFileSync(readme, 'utf8');
    expect(after.startsWith('# Results\n\nHand-written protocol notes.\n\n')).toBe(true);
    expect(after.endsWith(`${VERDICTS_END}\n\nMore notes.\n`)).toBe(true);
    expect(after).not.toContain('old table');
    expect(after).toContain(
      '| 5. gru has 25–35% fewer parameters than lstm. | — | gru (hidden 16) 2,898 vs lstm (hidden 20) 5,742 parameters: 49.5% fewer | **does not hold** |',
    );
    // A front page elsewhere (--readme) gets the compact table.
    const front = path.join(temp, 'FRONT.md');
    writeFileSync(front, `# l2o\n\n${VERDICTS_BEGIN}\n${VERDICTS_END}\n`);
    const withFront = runCli(args`results --scale smoke --out ${path.join(temp, 'results-front')} --readme ${front}`, { env });
    expect(withFront.code, withFront.stderr).toBe(0);
    const frontPage = readFileSync(front, 'utf8');
    expect(frontPage).toContain(
      '| 5. gru has 25–35% fewer parameters than lstm. | — | **does not hold** | outside 25–35% at the spec’s sizes (gru hidden 16, lstm hidden 20, both 2 layers with the same heads) |',
    );
    expect(frontPage).toContain('are in [docs/results](results-front/README.md)');
    expect(frontPage).not.toContain('49.5% fewer');
    // By default a figure decides claims from its third seed: these two decide nothing yet.
    expect(frontPage).toMatch(
      /\| 1\. In distribution \(LASSO\): gru is best; gru-mha is on par with lstm\. \| fig1 \| \*\*not run\*\* \| fig1 has 2 seeds so far \(a claim is decided on 3\) \|/,
    );
  }, 600_000);

  it('makes the pages again from the runs kept beside them, with no store, and adds the seeds of another store', () => {
    const out = path.join(temp, 'results');
    const page = (file: string) => readFileSync(path.join(out, file), 'utf8');
    const before = { md: page('fig1.md'), svg: page('fig1.svg'), validation: page('fig1-validation.svg'), data: page('data/fig1.json') };
    // A machine whose store never held these runs (an empty one): the same page, plot and kept data.
    const empty = { ...env, L2O_STORE: path.join(temp, 'empty-store') };
    const again = runCli(args`results --scale smoke --out ${out} --min-seeds 2`, { env: empty });
    expect(again.code, again.stderr).toBe(0);
    expect(page('README.md')).toContain('A figure decides claims once it has 2 seeds (`l2o results --min-seeds 2`; the protocol’s are 3)');
    expect(page('README.md')).toContain('two are on par when it lies within ±0.30 (gaps within a factor of 2');
    expect(page('fig1.md')).toBe(before.md);
    expect(page('fig1.svg')).toBe(before.svg);
    expect(page('fig1-validation.svg')).toBe(before.validation);
    expect(page('data/fig1.json')).toBe(before.data);
    // Another machine's store with seed 2 only: its run joins the two kept ones.
    const other = { ...env, L2O_STORE: path.join(temp, 'other-store') };
    const spec = path.join(REPO_ROOT, 'experiments/paper/fig1.yaml');
    const run = runCli(args`experiment run ${spec} --scale smoke --seed 2 --runs-dir ${path.join(temp, 'runs-other')}`, { env: other });
    expect(run.code, run.stderr).toBe(0);
    const more = runCli(args`results --scale smoke --out ${out} --figures fig1`, { env: other });
    expect(more.code, more.stderr).toBe(0);
    expect(page('fig1.md')).toMatch(/^# fig1 over 3 seeds \(smoke scale\)/);
    expect(page('fig1.md')).toContain('seeds 0, 1, 2');
    const kept = JSON.parse(page('data/fig1.json')) as { runs: { summary: { seed: number } }[]; validation: { seed: number }[] };
    expect(kept.runs.map((r) => r.summary.seed)).toEqual([0, 1, 2]);
    expect(new Set(kept.validation.map((v) => v.seed))).toEqual(new Set([0, 1, 2]));
  }, 600_000);

  it('over several scales, puts each scale’s pages in its folder and decides each claim at the first scale that ran it, saying which', () => {
    const out = path.join(temp, 'results-scales');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'README.md'), `# Results\n\n${VERDICTS_BEGIN}\n${VERDICTS_END}\n`);
    const front = path.join(temp, 'FRONT-scales.md');
    writeFileSync(front, `# l2o\n\n${VERDICTS_BEGIN}\n${VERDICTS_END}\n`);
    // quick: no run of fig1 at it (the larger scale here, not run yet); smoke: the runs above.
    const r = runCli(args`results --scale quick,smoke --out ${out} --figures fig1 --readme ${front} --min-seeds 2 --json`, { env });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { verdicts: { claim: number | string; verdict: string; scale?: string }[] };
    expect(existsSync(path.join(out, 'smoke', 'fig1.md'))).toBe(true);
    expect(existsSync(path.join(out, 'smoke', 'data', 'fig1.json'))).toBe(true);
    expect(existsSync(path.join(out, 'quick'))).toBe(false);
    expect(result.verdicts.find((v) => v.claim === 1)!.scale).toBe('smoke');
    expect(result.verdicts.find((v) => v.claim === 2)).toMatchObject({ verdict: 'not run' });
    expect(result.verdicts.find((v) => v.claim === 2)!.scale).toBeUndefined();
    const block = readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(block).toContain('Each claim is decided at the first of quick, smoke at which its figures ran');
    expect(block).toContain('No figure has runs at quick scale yet.');
    expect(block).toMatch(/\| 1\. In distribution \(LASSO\): gru is best; gru-mha is on par with lstm\. \| smoke \| fig1 \|/);
    expect(block).toContain('### At smoke scale (pages: [smoke/](smoke/))');
    const frontPage = readFileSync(front, 'utf8');
    expect(frontPage).toContain('| claim | decided at | figure | verdict | first reason |');
    expect(frontPage).toContain('### At smoke scale (pages: [smoke/](results-scales/smoke/))');
    // The front page gives the first scale's verdicts once (the decided table), its own table only by link.
    expect(frontPage.match(/\| 1\. In distribution \(LASSO\)/g)).toHaveLength(1);
    expect(frontPage).toContain('its own table, with the claims not run there, is in [docs/results](results-scales/README.md)');
    expect(block.match(/\| 1\. In distribution \(LASSO\)/g)).toHaveLength(2);
    expect(readFileSync(path.join(out, 'smoke', 'fig1.md'), 'utf8')).toContain('`l2o results --scale quick,smoke --out');
    const twice = runCli(args`results --scale smoke,smoke --out ${out}`, { env });
    expect(twice.code).toBe(2);
    expectOneLineError(twice.stderr, /--scale smoke,smoke names a scale twice/);
  }, 600_000);

  it('with no stored or kept run of the figures, says so in one line', () => {
    const r = runCli(args`results --scale smoke --out ${path.join(temp, 'none')} --figures fig5`, { env });
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /No stored or kept runs of fig5 at scale 'smoke'/);
  });
});
