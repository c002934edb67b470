import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { checkOutputPath, UsageError } from '@l2o/core';
import { writeRunReport } from '@l2o/report';
import { L2oCommand } from '../base-command.js';
import { storeFlag } from '../flags.js';
import { isRunDirArg, loadRuns } from '../store-flags.js';

export default class Report extends L2oCommand {
  static override summary = "Re-render a run's convergence plot (SVG, PNG) and Markdown summary from its metrics.";
  static override description =
    'RUN is a run directory (the files are rewritten in it, or in --out), or, when no folder has that name, the id of a run in the run store (--store): its files are written into --out, and the store is not changed.';
  static override examples = ['<%= config.bin %> report runs/20261128-120000-fig1', '<%= config.bin %> report 20261128-120000-fig1 --out fig1-report'];
  static override args = { run: Args.string({ required: true, description: 'Run directory, or stored run id (then --out is required).' }) };
  static override flags = {
    ...storeFlag,
    out: Flags.string({
      summary:
        'Folder to write convergence.svg, convergence.png and summary.md into (created if need be). Required for a stored run id; for a run directory, the directory itself by default.',
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Report);
    if (flags.out === undefined && !isRunDirArg(args.run)) {
      throw new UsageError(`'${args.run}' is not a folder; to re-render the stored run with that id, give --out <folder> for its plot and summary.`);
    }
    if (flags.out !== undefined) checkOutputPath(flags.out, 'dir', 'The --out folder');
    const [run] = await loadRuns([args.run], flags.store);
    const out = flags.out ?? args.run;
    const written = await writeRunReport(run!, out);
    if (this.jsonMode) return { run: args.run, out: path.resolve(out), written };
    process.stdout.write(`${written.map((f) => path.join(out, f)).join('\n')}\n`);
  }
}
