import { Args } from '@oclif/core';
import { rerenderRun } from '@l2o/report';
import { L2oCommand } from '../base-command.js';

export default class Report extends L2oCommand {
  static override summary = "Re-render a run's convergence plot (SVG, PNG) and Markdown summary from its metrics.";
  static override examples = ['<%= config.bin %> report runs/20261128-120000-fig1'];
  static override args = { run: Args.string({ required: true, description: 'Run directory.' }) };
  static override flags = {};

  async run(): Promise<unknown> {
    const { args } = await this.parse(Report);
    const written = await rerenderRun(args.run);
    if (this.jsonMode) return { run: args.run, written };
    process.stdout.write(`${written.map((f) => `${args.run}/${f}`).join('\n')}\n`);
  }
}
