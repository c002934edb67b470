import { cancelSweep } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { queueFlag } from '../../flags.js';
import { requireQueue, statusText, sweepIdArgs } from '../../queue-flags.js';

export default class SweepCancel extends L2oCommand {
  static override summary = 'Cancel a submitted sweep: its waiting jobs are removed and its running ones stopped; returns when none runs.';
  static override examples = ['<%= config.bin %> sweep cancel <sweep-id> --queue redis://127.0.0.1:6379'];
  static override args = sweepIdArgs;
  static override flags = { ...queueFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SweepCancel);
    const status = await cancelSweep(requireQueue(flags.queue), args.id);
    if (this.jsonMode) return status;
    process.stdout.write(`${statusText(status)}\n`);
  }
}
