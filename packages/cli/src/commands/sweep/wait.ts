import { connectionEventText, waitForSweep } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { queueFlag } from '../../flags.js';
import { requireQueue, statusText, sweepIdArgs } from '../../queue-flags.js';

export default class SweepWait extends L2oCommand {
  static override summary =
    'Wait until no job of a submitted sweep is waiting or active, across Redis restarts; exits 1 if a job failed or the sweep was lost with a restart.';
  static override examples = ['<%= config.bin %> sweep wait <sweep-id> --queue redis://127.0.0.1:6379'];
  static override args = sweepIdArgs;
  static override flags = { ...queueFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SweepWait);
    let last = '';
    const status = await waitForSweep(
      requireQueue(flags.queue),
      args.id,
      (s) => {
        const line = `${s.counts.completed} completed, ${s.counts.active} active, ${s.counts.waiting} waiting, ${s.counts.failed} failed`;
        if (line !== last) this.note(line);
        last = line;
      },
      this.interrupt.signal,
      undefined,
      (e) => this.note(connectionEventText(e)),
    );
    if (status.counts.failed > 0 || status.counts.cancelled > 0) process.exitCode = 1;
    if (this.jsonMode) return status;
    process.stdout.write(`${statusText(status)}\n`);
  }
}
