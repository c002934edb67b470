import path from 'node:path';
import { createRequire } from 'node:module';
import { Args, Flags } from '@oclif/core';
import { scaffoldPlugin } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';

const require = createRequire(import.meta.url);

export default class PluginNew extends L2oCommand {
  static override summary = 'Scaffold a third-party learned-optimizer package (a PA-family backbone, a test, a README).';
  static override examples = ['<%= config.bin %> plugin new l2o-plugin-mygru', '<%= config.bin %> plugin new @lab/l2o-lstm-attention --dir lstm-attention'];
  static override args = { name: Args.string({ required: true, description: 'npm package name.' }) };
  static override flags = { dir: Flags.string({ summary: 'Folder to create (default: the name without scope).' }) };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(PluginNew);
    const dir = path.resolve(flags.dir ?? args.name.replace(/^@[^/]+\//, ''));
    // The exact installed versions; the scaffold derives its ranges from them.
    const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
    const files = await scaffoldPlugin(dir, args.name, { core: version('@l2o/core'), models: version('@l2o/models') });
    if (this.jsonMode) return { dir, files };
    const rel = path.relative(process.cwd(), dir) || '.';
    const shown = rel.startsWith('.') || path.isAbsolute(rel) ? rel : `./${rel}`;
    process.stdout.write(
      `created ${dir}: ${files.join(', ')}\n` +
        `next: cd ${shown} && npm install && npm test\n` +
        `then: l2o models --plugin ${shown}   (or npm pack it and npm install the .tgz next to @l2o/cli: found with no config)\n`,
    );
  }
}
