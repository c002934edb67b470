import { Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { formatGap } from '@l2o/report';
import { parseSince } from '@l2o/store';
import { L2oCommand } from '../../base-command.js';
import { storeFlag, whereFlag } from '../../flags.js';
import { parseWhere, withStore } from '../../store-flags.js';

export default class RunsList extends L2oCommand {
  static override summary = 'List stored runs, newest first, with the final mean relative gap of each optimizer.';
  static override examples = [
    '<%= config.bin %> runs list',
    '<%= config.bin %> runs list --model gru-mha --dataset bsds500 --json',
    '<%= config.bin %> runs list --scale toy --since 2026-11-01',
    '<%= config.bin %> runs list --where seed=0 --where training.globalSteps=2',
  ];
  static override flags = {
    ...storeFlag,
    model: Flags.string({ summary: 'Runs with this optimizer or model id.' }),
    problem: Flags.string({ summary: 'Runs of this problem.' }),
    dataset: Flags.string({ summary: 'Runs tested on this dataset.' }),
    scale: Flags.string({ summary: 'Runs at this scale.' }),
    since: Flags.string({ summary: 'Runs created on or after this date (YYYY-MM-DD or an ISO time).' }),
    ...whereFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(RunsList);
    const since = flags.since === undefined ? undefined : parseSince(flags.since);
    if (since === null) throw new UsageError(`--since '${flags.since}' is not a date from year 1 to 9999.`, 'Give YYYY-MM-DD or an ISO time, e.g. --since 2026-11-01.');
    const where = parseWhere(flags.where ?? []);
    const runs = await withStore(flags.store, (store) =>
      store.listRuns({ model: flags.model, problem: flags.problem, dataset: flags.dataset, scale: flags.scale, since, where }),
    );
    if (this.jsonMode) return runs;
    if (runs.length === 0) return void process.stdout.write('no runs\n');
    for (const r of runs) {
      const gaps = r.optimizers.map((o) => `${o.label} ${o.divergedAt !== null ? `diverged@${o.divergedAt}` : o.finalGap === null ? '—' : formatGap(o.finalGap)}`).join(', ');
      process.stdout.write(`${r.id}  ${r.problem}/${r.testDataset} ${r.scale} seed ${r.seed}  ${gaps}\n`);
    }
  }
}
