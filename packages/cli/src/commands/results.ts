import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { L2oError } from '@l2o/core';
import {
  keptForm,
  mergeFigureData,
  readFigureData,
  verdictTableMarkdown,
  writeResults,
  type FigureData,
  type FigureRuns,
  type ParameterCounts,
} from '@l2o/report';
import { L2oCommand } from '../base-command.js';
import { newestPerSeed } from '@l2o/store';
import { scaleFlag, storeFlag } from '../flags.js';
import { withStore } from '../store-flags.js';

const PAPER_FIGURES = ['fig1', 'fig2', 'fig3', 'fig4', 'fig5', 'fig6', 'fig7'];

export default class Results extends L2oCommand {
  static override summary =
    "Generate the paper's results from the run store: each figure over its seeds (table, plot with 95% bands) and the verdict on each claim.";
  static override description =
    "For each figure (experiments/paper/figN.yaml) at --scale, the newest run of each seed — from the run store, or kept in <out>/data/figN.json by an earlier generation — is aggregated into <out>/figN.md, .svg and .png, with the commit and engine that made the runs; the runs it used are kept in <out>/data/figN.json (summaries and mean curves, no checkpoints), so the pages can be made again, and more seeds added, without the store that held them. The verdict table on the paper's five claims goes into <out>/README.md between its verdict markers, else into <out>/verdicts.md.";
  // (docs/results is made with `results --scale cpu --out docs/results --readme README.md` over the paper's store.)
  static override examples = ['<%= config.bin %> results --scale smoke --out results-smoke --figures fig1,fig3'];
  static override flags = {
    ...storeFlag,
    ...scaleFlag('cpu', 'The scale whose runs are aggregated.'),
    out: Flags.string({ default: 'docs/results', summary: 'Folder of the generated pages.' }),
    figures: Flags.string({ default: PAPER_FIGURES.join(','), summary: 'The experiments (spec names) to aggregate, comma-separated.' }),
    readme: Flags.string({ multiple: true, summary: "Another file whose verdict block (between the markers) is replaced too, e.g. the project's README.md." }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Results);
    const names = flags.figures
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const platform = await this.boot({ ...flags, store: 'off' });
    const parameters = parameterCounts(platform.registry);
    const out = path.resolve(flags.out);
    const stored = await withStore(flags.store, async (store) => {
      const found: FigureData[] = [];
      for (const name of names) {
        const listed = await store.listRuns({ name, scale: flags.scale });
        const records = [];
        for (const r of newestPerSeed(listed)) records.push((await store.getRun(r.id))!);
        found.push(
          keptForm({
            name,
            runs: records.map((r) => ({ id: r.id, summary: r.gitCommit ? { ...r.summary, gitCommit: r.gitCommit } : r.summary, curves: r.curves })),
            validation: records.flatMap((r) => validationOf(r.summary.seed, r.artifacts)),
          }),
        );
      }
      return found;
    });
    // The store's runs first (they win a tie), then those kept beside the pages by earlier
    // generations; the store's with their numbers rounded as kept, so either gives the same page.
    const figures: FigureRuns[] = stored.flatMap((fromStore) => {
      const kept = readFigureData(out, fromStore.name);
      const merged = mergeFigureData(fromStore.name, [fromStore, kept?.runs.every((r) => r.summary.scale === flags.scale) ? kept : null]);
      if (!merged) return [];
      const seeds = merged.runs.map((r) => r.summary.seed);
      const engines = [...new Set(merged.runs.map((r) => r.summary.engine))];
      return [
        {
          ...merged,
          commits: [...new Set(merged.runs.flatMap((r) => (r.summary.gitCommit ? [r.summary.gitCommit.replace(/^([0-9a-f]{7})[0-9a-f]*/, '$1')] : [])))],
          engines,
          reproduce: `${kernelsPrefix(engines)}l2o sweep ${specPath(merged.name)} --scale ${flags.scale} --seeds ${seeds.join(',')}`,
          regenerate: `l2o results --scale ${flags.scale} --out ${flags.out}${flags.figures === PAPER_FIGURES.join(',') ? '' : ` --figures ${flags.figures}`}${(flags.readme ?? []).map((f) => ` --readme ${f}`).join('')}`,
        },
      ];
    });
    if (!figures.length)
      throw new L2oError(
        `No stored or kept runs of ${names.join(', ')} at scale '${flags.scale}'.`,
        `Run them first, e.g. l2o sweep experiments/paper/${names[0]}.yaml --scale ${flags.scale} --seeds 0..2.`,
      );
    const written = await writeResults(
      figures,
      parameters,
      out,
      (flags.readme ?? []).map((f) => path.resolve(f)),
    );
    if (this.jsonMode) return { files: written.files, verdicts: written.verdicts };
    process.stdout.write(`${verdictTableMarkdown(written.verdicts)}\n\nwritten: ${written.files.map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
  }
}

/** An experiment's spec in this checkout, experiments/<folder>/<name>.yaml (the paper's folder when none is found). */
function specPath(name: string): string {
  const folders = existsSync('experiments') ? readdirSync('experiments') : [];
  return `experiments/${folders.find((f) => existsSync(path.join('experiments', f, `${name}.yaml`))) ?? 'paper'}/${name}.yaml`;
}

/**
 * Runs on WASM without the platform's kernels (engine 'wasm', not 'wasm+l2o-kernels': every run
 * made before they existed) are reproduced to the digit only with tfjs's kernels alone.
 */
function kernelsPrefix(engines: string[]): string {
  return engines.includes('wasm') && !engines.some((e) => e.endsWith('+l2o-kernels')) ? 'L2O_KERNELS=tfjs ' : '';
}

/** lstm's and gru's parameter counts at their defaults, and the gru hidden sizes that give 65–75% of lstm's. */
function parameterCounts(registry: {
  get(
    kind: 'model',
    id: string,
  ): {
    create(o: Record<string, unknown>): { parameterCount(): number; dispose(): void };
    defaultConfig(): Record<string, unknown>;
  };
}): ParameterCounts | null {
  const count = (id: string, options: Record<string, unknown> = {}) => {
    const model = registry.get('model', id).create(options);
    try {
      return model.parameterCount();
    } finally {
      model.dispose();
    }
  };
  const lstm = count('lstm');
  const paperRange: ParameterCounts['paperRange'] = [];
  for (let hidden = 1; hidden <= 64; hidden++) {
    const parameters = count('gru', { hidden });
    if (parameters >= 0.65 * lstm && parameters <= 0.75 * lstm) paperRange.push({ hidden, parameters });
  }
  const hidden = (id: string) => Number(registry.get('model', id).defaultConfig().hidden);
  return { lstm, gru: count('gru'), lstmHidden: hidden('lstm'), gruHidden: hidden('gru'), paperRange };
}

/** The validation losses of a stored run's trainings (its training/<label>.json logs). */
function validationOf(seed: number, artifacts: Record<string, Uint8Array | string>): FigureData['validation'] {
  return Object.entries(artifacts).flatMap(([name, content]) => {
    const label = /^training\/(.+)\.json$/.exec(name)?.[1];
    if (!label) return [];
    try {
      const log = JSON.parse(typeof content === 'string' ? content : Buffer.from(content).toString('utf8')) as {
        validation?: { step: number; loss: number | null }[];
      };
      const points = (log.validation ?? []).map((p) => ({ step: p.step, loss: p.loss ?? Number.NaN }));
      return points.length ? [{ label, seed, points }] : [];
    } catch {
      return [];
    }
  });
}
