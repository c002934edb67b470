import { Args, Flags } from '@oclif/core';
import { stderrLogger } from '@l2o/core';
import { readRunDir } from '@l2o/store';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { withStore } from '../../store-flags.js';

export default class RunsImport extends L2oCommand {
  static override summary = 'Store existing run directories in the run store (a run already stored is left as it is).';
  static override description =
    "A run directory's files are checked against its checksums.sha256 (written with the run): a run changed since is refused, unless --rederive. A run written before runs had one is imported with a warning. The stored summary's metrics are always computed from the run's metrics files, so `runs list` and `runs show` agree.";
  static override examples = [
    '<%= config.bin %> runs import runs/*',
    '<%= config.bin %> runs import runs/20261128-120000-fig1 --store lab-store',
    '<%= config.bin %> runs import runs/20261128-120000-fig1 --rederive',
  ];
  static override strict = false;
  static override args = { dirs: Args.string({ required: true, description: 'Run directories.' }) };
  static override flags = {
    ...storeFlag,
    rederive: Flags.boolean({
      summary: "Import a run whose files do not match its checksums.sha256 as it is now (each difference is warned of), its summary's metrics re-derived from its metrics files.",
    }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(RunsImport);
    // Every directory is read (and checked) before the store is touched.
    const records = (argv as string[]).map((dir) => readRunDir(dir, { '@l2o/cli': this.config.version }, { rederive: flags.rederive, warn: stderrLogger.warn }));
    const results = await withStore(flags.store, async (store) => {
      const out = [];
      for (const record of records) out.push(await store.saveRun(record));
      return out;
    });
    if (this.jsonMode) return results;
    for (const r of results) process.stdout.write(`${r.id}: ${r.created ? 'stored' : 'already stored'}\n`);
  }
}
