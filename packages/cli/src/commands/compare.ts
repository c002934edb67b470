import { Args } from '@oclif/core';
import { compareRuns } from '@l2o/report';
import { L2oCommand } from '../base-command.js';

export default class Compare extends L2oCommand {
  static override summary = 'Set runs side by side: the final mean relative gap of every optimizer in each run.';
  static override examples = ['<%= config.bin %> compare runs/*fig1* runs/*fig2*'];
  static override strict = false;
  static override args = { runs: Args.string({ required: true, description: 'Run directories.' }) };
  static override flags = {};

  async run(): Promise<unknown> {
    const { argv } = await this.parse(Compare);
    const result = compareRuns(argv as string[]);
    if (this.jsonMode) return result.rows;
    process.stdout.write(result.markdown);
  }
}
