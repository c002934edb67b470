import path from 'node:path';
import { Args } from '@oclif/core';
import { L2oError } from '@l2o/core';
import { exportRunDir } from '@l2o/store';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { withStore } from '../../store-flags.js';

export default class RunsExport extends L2oCommand {
  static override summary = 'Write a stored run back as a run directory (config, summary, metrics, checkpoints, plots).';
  static override examples = ['<%= config.bin %> runs export 20261128-120000-fig1 fig1-again'];
  static override args = {
    id: Args.string({ required: true, description: 'Run id (as `l2o runs list` shows it).' }),
    dir: Args.string({ required: true, description: 'Folder to create (must not exist).' }),
  };
  static override flags = { ...storeFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(RunsExport);
    const run = await withStore(flags.store, (store) => store.getRun(args.id));
    if (!run) throw new L2oError(`No stored run has the id '${args.id}'.`, 'See `l2o runs list`.');
    const dir = await exportRunDir(run, path.resolve(args.dir));
    if (this.jsonMode) return { id: args.id, dir };
    process.stdout.write(`exported ${args.id} to ${dir}\n`);
  }
}
