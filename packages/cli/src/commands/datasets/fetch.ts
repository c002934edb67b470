import { Args } from '@oclif/core';
import cliProgress from 'cli-progress';
import { checkOutputPath, UsageError } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';
import { cacheDirFlag, dryRunFlag } from '../../flags.js';

export default class DatasetsFetch extends L2oCommand {
  static override summary = 'Download a dataset from its official source, verify its checksums, and cache it.';
  static override description =
    'The archive streams to a temporary file; only verified files are moved into the cache (~/.cache/l2o/raw), so a failed or cut download leaves the cache as it was.';
  static override examples = ['<%= config.bin %> datasets fetch bsds500', '<%= config.bin %> datasets fetch ionosphere --cache-dir l2o-cache'];
  static override args = { id: Args.string({ required: true, description: 'Dataset id.' }) };
  static override flags = {
    ...cacheDirFlag,
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(DatasetsFetch);
    const platform = await this.boot(flags, { allowDownload: true, ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}) });
    const dataset = platform.registry.get('dataset', args.id).create({});
    if (!dataset.fetch) throw new UsageError(`Dataset ${args.id} is generated: there is nothing to download.`);
    checkOutputPath(platform.datasetContext.cacheDir, 'dir', 'The cache folder (--cache-dir, L2O_CACHE_DIR)');
    if (flags['dry-run']) {
      const { sources } = await dataset.describe(platform.datasetContext);
      const plan = { id: args.id, sources: sources ?? [], cacheDir: platform.datasetContext.cacheDir };
      if (this.jsonMode) return { plan };
      return void process.stdout.write(`dry run: would download ${args.id} from ${plan.sources.join(', ')} into ${plan.cacheDir}\n`);
    }
    const showBar = !this.jsonMode && !this.quietMode && process.stderr.isTTY;
    const bar = showBar
      ? new cliProgress.SingleBar(
          { format: `${args.id} {bar} {percentage}% {value}/{total} bytes`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let started = false;
    const info = await dataset.fetch(platform.datasetContext, (done, total) => {
      if (!bar) return;
      if (!started) {
        bar.start(total ?? 0, 0);
        started = true;
      }
      bar.update(done);
    });
    bar?.stop();
    if (this.jsonMode) return info;
    process.stdout.write(`${info.id}: ${info.present ? `verified and cached in ${info.location}` : 'not available'}\n`);
  }
}
