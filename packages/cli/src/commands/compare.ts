import { Args } from '@oclif/core';
import { compareLoadedRuns } from '@l2o/report';
import { L2oCommand } from '../base-command.js';
import { storeFlag } from '../flags.js';
import { loadRuns } from '../store-flags.js';

export default class Compare extends L2oCommand {
  static override summary = 'Set runs side by side: the final mean relative gap of every optimizer in each run.';
  static override description = 'A run is a run directory, or, when no folder has that name, the id of a run in the run store (--store); the two can be mixed.';
  static override examples = ['<%= config.bin %> compare runs/*fig1* runs/*fig2*', '<%= config.bin %> compare 20261128-120000-fig1 runs/20261128-130000-fig2'];
  static override strict = false;
  static override args = { runs: Args.string({ required: true, description: 'Run directories or stored run ids.' }) };
  static override flags = { ...storeFlag };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(Compare);
    const result = compareLoadedRuns(await loadRuns(argv as string[], flags.store));
    if (this.jsonMode) return result.rows;
    process.stdout.write(result.markdown);
  }
}
