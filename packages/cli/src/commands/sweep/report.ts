import path from 'node:path';
import { Flags } from '@oclif/core';
import { defaultStoreLocation } from '@l2o/store';
import { reportQueuedSweep } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { queueFlag, storeFlag } from '../../flags.js';
import { requireQueue, sweepIdArgs } from '../../queue-flags.js';

export default class SweepReport extends L2oCommand {
  static override summary =
    "Aggregate a submitted sweep's stored runs over seeds: mean relative gap ± 95% t-interval, iterations to thresholds, plots with bands.";
  static override examples = ['<%= config.bin %> sweep report <sweep-id> --queue redis://127.0.0.1:6379 --store postgres://l2o@db/l2o'];
  static override args = sweepIdArgs;
  static override flags = {
    ...queueFlag,
    ...storeFlag,
    out: Flags.string({ summary: 'Folder for report.md and the plots (default: sweeps/<sweep id>).' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(SweepReport);
    const outDir = path.resolve(flags.out ?? path.join('sweeps', args.id));
    const report = await reportQueuedSweep(requireQueue(flags.queue), args.id, flags.store ?? defaultStoreLocation(), outDir);
    if (this.jsonMode)
      return { id: args.id, dir: outDir, missing: report.missing, groups: report.groups.map((g) => ({ point: g.point, aggregate: g.aggregate })) };
    process.stdout.write(`${report.markdown}\nreport in ${outDir}\n`);
  }
}
