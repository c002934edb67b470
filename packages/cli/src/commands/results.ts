import path from 'node:path';
import { Flags } from '@oclif/core';
import { getScale, L2oError, MAX_SWEEP_SEEDS, UsageError } from '@l2o/core';
import {
  gatherResults,
  MIN_DECIDING_SEEDS,
  verdictTableMarkdown,
  writeResults,
  writeResultsAtScales,
  type FigureRuns,
  type ParameterCounts,
} from '@l2o/report';
import { L2oCommand } from '../base-command.js';
import { scaleFlag, storeFlag } from '../flags.js';
import { withStore } from '../store-flags.js';
import { integerIn } from '../numeric-flags.js';

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
    ...scaleFlag(
      'cpu',
      "The scale whose runs are aggregated; or several, comma-separated, the largest first (paper,cpu): each scale's pages go into <out>/<scale>/ and each claim is decided at the first scale that ran its figures.",
    ),
    out: Flags.string({ default: 'docs/results', summary: 'Folder of the generated pages.' }),
    figures: Flags.string({ default: PAPER_FIGURES.join(','), summary: 'The experiments (spec names) to aggregate, comma-separated.' }),
    kept: Flags.string({
      multiple: true,
      summary:
        "Another folder of kept runs, <dir>/<figure>.json (e.g. a campaign's campaigns/<name>/runs), merged with the store's and <out>/data's (repeatable).",
    }),
    readme: Flags.string({ multiple: true, summary: "Another file whose verdict block (between the markers) is replaced too, e.g. the project's README.md." }),
    'min-seeds': Flags.integer({
      ...integerIn({ min: 1, max: MAX_SWEEP_SEEDS }),
      default: MIN_DECIDING_SEEDS,
      summary: 'Seeds a figure needs before it decides a claim; with fewer (a campaign under way) its claims are "not run" at its scale.',
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Results);
    const names = flags.figures
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const scales = flags.scale.split(',').map((s) => s.trim());
    for (const scale of scales) getScale(scale);
    if (new Set(scales).size !== scales.length)
      throw new UsageError(`--scale ${flags.scale} names a scale twice.`, 'Give each scale once, the largest first: --scale paper,cpu.');
    const platform = await this.boot({ ...flags, store: 'off' });
    const out = path.resolve(flags.out);
    const regenerate = `l2o results --scale ${flags.scale} --out ${flags.out}${flags.figures === PAPER_FIGURES.join(',') ? '' : ` --figures ${flags.figures}`}${(flags.kept ?? []).map((d) => ` --kept ${d}`).join('')}${(flags.readme ?? []).map((f) => ` --readme ${f}`).join('')}${flags['min-seeds'] === MIN_DECIDING_SEEDS ? '' : ` --min-seeds ${flags['min-seeds']}`}`;
    const gathered = await withStore(flags.store, async (store) => {
      const byScale: { scale: string; figures: FigureRuns[] }[] = [];
      let parameters: ParameterCounts | null = null;
      for (const scale of scales) {
        try {
          const g = await gatherResults({
            store,
            registry: platform.registry,
            names,
            scale,
            outDir: scales.length > 1 ? path.join(out, scale) : out,
            keptDirs: flags.kept,
            regenerate,
          });
          byScale.push({ scale, figures: g.figures });
          parameters = g.parameters;
        } catch (e) {
          // With several scales, one without runs yet is listed as such; with one, it is the error.
          if (scales.length === 1 || !(e instanceof L2oError)) throw e;
          byScale.push({ scale, figures: [] });
        }
      }
      if (byScale.every((s) => !s.figures.length))
        throw new L2oError(
          `No stored or kept runs of ${names.join(', ')} at scales ${scales.join(', ')}.`,
          `Run them first, e.g. l2o sweep experiments/paper/${names[0]}.yaml --scale ${scales.at(-1)} --seeds 0..2.`,
        );
      return { byScale, parameters };
    });
    const readme = (flags.readme ?? []).map((f) => path.resolve(f));
    const written =
      scales.length === 1
        ? await writeResults(gathered.byScale[0]!.figures, gathered.parameters, out, readme, flags['min-seeds'])
        : await writeResultsAtScales(gathered.byScale, gathered.parameters, out, readme, flags['min-seeds']);
    if (this.jsonMode) return { files: written.files, verdicts: written.verdicts };
    process.stdout.write(`${verdictTableMarkdown(written.verdicts)}\n\nwritten: ${written.files.map((f) => path.relative(process.cwd(), f)).join(', ')}\n`);
  }
}
