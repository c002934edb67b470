import { Args, Flags } from '@oclif/core';
import { L2oCommand } from '../../base-command.js';

export default class DatasetsInfo extends L2oCommand {
  static override summary = 'Show where a dataset comes from, its checksums, and where its files are.';
  static override examples = ['<%= config.bin %> datasets info bsds500', '<%= config.bin %> datasets info spambase --json'];
  static override args = { id: Args.string({ required: true, description: 'Dataset id.' }) };
  static override flags = {
    'data-dir': Flags.string({ env: 'L2O_DATA_DIR', summary: 'Folder with the raw dataset files.' }),
    'cache-dir': Flags.string({ env: 'L2O_CACHE_DIR', summary: 'Cache folder.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DatasetsInfo);
    const platform = await this.boot(flags, { dataDir: flags['data-dir'], ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}) });
    const info = await platform.registry.get('dataset', args.id).create({}).describe(platform.datasetContext);
    if (this.jsonMode) return this.printJson(info);
    const lines = [
      `${info.id}: ${info.description}`,
      `serves: ${info.serves.join(', ')}`,
      `files: ${!info.needsFiles ? 'none (generated)' : info.present ? `${info.location} (${((info.sizeBytes ?? 0) / 2 ** 20).toFixed(1)} MiB)` : 'missing'}`,
      ...(info.sources ? [`source: ${info.sources.join(', ')}`] : []),
      ...(info.citation ? [`cite: ${info.citation}`] : []),
      ...(info.checksums ? [`checksums (SHA-256): ${Object.keys(info.checksums).length} files${this.quietMode ? '' : ''}`] : []),
      ...(info.checksums && Object.keys(info.checksums).length <= 3 ? Object.entries(info.checksums).map(([f, s]) => `  ${s}  ${f}`) : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
