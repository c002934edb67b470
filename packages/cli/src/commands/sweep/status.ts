import { connectionEventText, sweepStatus } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { queueFlag } from '../../flags.js';
import { requireQueue, statusText, sweepIdArgs } from '../../queue-flags.js';

export default class SweepStatus extends L2oCommand {
  static override summary = "Where a submitted sweep's jobs are: waiting, active (with progress), completed, failed (with the reason), and an ETA.";
  static override examples = ['<%= config.bin %> sweep status <sweep-id> --queue redis://127.0.0.1:6379'];
  static override args = sweepIdArgs;
  static override flags = { ...queueFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SweepStatus);
    const status = await sweepStatus(requireQueue(flags.queue), args.id, (e) => this.note(connectionEventText(e)));
    if (this.jsonMode) return status;
    process.stdout.write(`${statusText(status)}\n`);
  }
}
