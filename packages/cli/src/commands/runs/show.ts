import { Args } from '@oclif/core';
import { L2oError } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { curvesTable } from '../../format.js';
import { withStore } from '../../store-flags.js';

export default class RunsShow extends L2oCommand {
  static override summary = 'Show a stored run: its setting and every optimizer\'s mean F and relative gap at a few iterations.';
  static override examples = ['<%= config.bin %> runs show 20261128-120000-fig1', '<%= config.bin %> runs show 20261128-120000-fig1 --json'];
  static override args = { id: Args.string({ required: true, description: 'Run id (as `l2o runs list` shows it).' }) };
  static override flags = { ...storeFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(RunsShow);
    const { run, curves } = await withStore(flags.store, async (store) => ({ run: (await store.listRuns({ id: args.id }))[0], curves: await store.curves(args.id) }));
    if (!run) throw new L2oError(`No stored run has the id '${args.id}'.`, 'See `l2o runs list`.');
    if (this.jsonMode) return { ...run, curves };
    const shown = run.optimizers.map((o) => ({ optimizer: o.label, meanF: curves[o.label]?.meanF ?? [], meanGap: curves[o.label]?.meanGap ?? [], divergedAt: o.divergedAt }));
    process.stdout.write(`${run.id}: ${run.name}, ${run.problem} tested on ${run.testDataset}, scale ${run.scale}, seed ${run.seed}, ${run.engine}, ${run.createdAt}\n\n`);
    process.stdout.write(`${curvesTable(shown)}\n`);
  }
}
