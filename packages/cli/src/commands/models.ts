import { L2oCommand } from '../base-command.js';

export default class Models extends L2oCommand {
  static override summary = 'List the learned optimizers with their exact parameter counts (default config).';
  static override examples = ['<%= config.bin %> models', '<%= config.bin %> models --json'];
  static override flags = {};

  async run(): Promise<void> {
    const { flags } = await this.parse(Models);
    const { registry } = await this.boot(flags);
    const rows = registry.list('model').map((r) => {
      const model = r.create({});
      const row = { id: r.id, description: r.description, parameters: model.parameterCount(), package: r.source.packageName, config: model.config };
      model.dispose();
      return row;
    });
    if (this.jsonMode) return this.printJson(rows);
    const width = Math.max(...rows.map((r) => r.id.length), 2);
    for (const r of rows) {
      process.stdout.write(`${r.id.padEnd(width)}  ${r.parameters.toLocaleString('en-US').padStart(7)} parameters  ${r.description}  (${r.package})\n`);
    }
  }
}
