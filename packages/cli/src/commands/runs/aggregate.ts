import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { aggregateSeeds, seedTableMarkdown, writeSeedReport } from '@l2o/report';
import { L2oCommand } from '../../base-command.js';
import { storeFlag, whereFlag } from '../../flags.js';
import { newestPerSeed } from '@l2o/store';
import { getStoredRuns, parseWhere, withStore } from '../../store-flags.js';

export default class RunsAggregate extends L2oCommand {
  static override summary = 'Aggregate stored runs of one experiment over their seeds: mean relative gap ± 95% t-interval, iterations to thresholds.';
  static override description =
    'Give the runs by id (one per seed), or select them with --where (e.g. every stored seed of a figure at a scale; the newest run of each seed). The runs must share name, problem, test dataset, scale, iterations and optimizers.';
  static override examples = [
    '<%= config.bin %> runs aggregate --where spec.name=fig1 --where scale=smoke',
    '<%= config.bin %> runs aggregate <id> --json',
    '<%= config.bin %> runs aggregate --where spec.name=fig1 --where scale=smoke --out fig1-over-seeds',
  ];
  static override strict = false;
  static override args = { ids: Args.string({ description: 'Ids of stored runs (see l2o runs list).' }) };
  static override flags = {
    ...storeFlag,
    ...whereFlag,
    out: Flags.string({ summary: 'Also write report.md and convergence.svg|png (the mean with its 95% band) into this folder.' }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(RunsAggregate);
    const ids = argv as string[];
    if (ids.length === 0 && !flags.where?.length) throw new UsageError('Give the ids of the runs, or --where to select them.', 'Example: l2o runs aggregate --where spec.name=fig1 --where scale=cpu');
    const runs = await withStore(flags.store, async (store) => {
      if (ids.length) return getStoredRuns(store, ids);
      // Selected by config: the newest run of each seed (a seed run again replaces its older run).
      const listed = await store.listRuns({ where: parseWhere(flags.where ?? []) });
      if (listed.length === 0) throw new UsageError('No stored run matches the --where conditions.', 'See `l2o runs list --where …`.');
      const newest = newestPerSeed(listed);
      if (listed.length > newest.length) this.note(`${listed.length - newest.length} older run(s) of a repeated seed left out: the newest run of each seed is used`);
      return getStoredRuns(store, newest.map((r) => r.id));
    });
    const aggregate = aggregateSeeds(runs.map((r) => ({ id: r.id, summary: r.summary, curves: r.curves })));
    const written = flags.out ? await writeSeedReport(aggregate, path.resolve(flags.out)) : [];
    if (this.jsonMode) return written.length ? { ...aggregate, files: written } : aggregate;
    process.stdout.write(seedTableMarkdown(aggregate));
    if (written.length) process.stdout.write(`\nwritten: ${written.join(', ')}\n`);
  }
}
