import { Args } from '@oclif/core';
import { compareLoadedRuns } from '@l2o/report';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { getStoredRuns, withStore } from '../../store-flags.js';

export default class RunsCompare extends L2oCommand {
  static override summary = 'Set stored runs side by side: the final mean relative gap of every optimizer in each run (the table of `l2o compare`).';
  static override examples = [
    '<%= config.bin %> runs compare 20261128-120000-fig1 20261128-130000-fig2',
    '<%= config.bin %> runs compare 20261128-120000-fig1 20261128-130000-fig2 --json',
  ];
  static override strict = false;
  static override args = { ids: Args.string({ required: true, description: 'Run ids (as `l2o runs list` shows them).' }) };
  static override flags = { ...storeFlag };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(RunsCompare);
    const runs = await withStore(flags.store, (store) => getStoredRuns(store, argv as string[]));
    const result = compareLoadedRuns(runs);
    if (this.jsonMode) return result.rows;
    process.stdout.write(result.markdown);
  }
}
