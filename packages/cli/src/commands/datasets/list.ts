import { L2oCommand } from '../../base-command.js';
import { cacheDirFlag, dataDirFlag } from '../../flags.js';

export default class DatasetsList extends L2oCommand {
  static override summary = 'List the datasets, the problems each serves, and whether their files are present.';
  static override examples = ['<%= config.bin %> datasets list', 'L2O_DATA_DIR=/path/to/datasets <%= config.bin %> datasets list --json'];
  static override flags = {
    ...dataDirFlag,
    ...cacheDirFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(DatasetsList);
    const platform = await this.boot(flags, { dataDir: flags['data-dir'], ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}) });
    const infos = await Promise.all(platform.registry.list('dataset').map((r) => r.create({}).describe(platform.datasetContext)));
    if (this.jsonMode) return infos;
    for (const d of infos) {
      const state = !d.needsFiles ? 'generated' : d.present ? `present (${((d.sizeBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, ${d.location})` : 'missing';
      process.stdout.write(`${d.id.padEnd(11)} serves ${d.serves.join(', ').padEnd(18)} ${state}\n`);
    }
  }
}
