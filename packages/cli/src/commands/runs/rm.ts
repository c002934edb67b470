import { Args } from '@oclif/core';
import { L2oError } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { withStore } from '../../store-flags.js';

export default class RunsRm extends L2oCommand {
  static override summary = 'Delete a stored run (its curves and artifacts with it).';
  static override examples = ['<%= config.bin %> runs rm 20261128-130000-fig2'];
  static override args = { id: Args.string({ required: true, description: 'Run id (as `l2o runs list` shows it).' }) };
  static override flags = { ...storeFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(RunsRm);
    const deleted = await withStore(flags.store, (store) => store.deleteRun(args.id));
    if (!deleted) throw new L2oError(`No stored run has the id '${args.id}'.`, 'See `l2o runs list`.');
    if (this.jsonMode) return { deleted: args.id };
    process.stdout.write(`deleted ${args.id}\n`);
  }
}
