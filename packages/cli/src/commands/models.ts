import { describeOptions, listOptions } from '@l2o/core';
import { L2oCommand } from '../base-command.js';
import { listOptionsFlag } from '../flags.js';

export default class Models extends L2oCommand {
  static override summary = 'List the learned optimizers with their exact parameter counts (default config).';
  static override examples = ['<%= config.bin %> models', '<%= config.bin %> models --options', '<%= config.bin %> models --json'];
  static override flags = {
    ...listOptionsFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Models);
    const { registry } = await this.boot(flags);
    const rows = registry.list('model').map((r) => {
      const model = r.create({});
      const row = {
        id: r.id,
        description: r.description,
        parameters: model.parameterCount(),
        package: r.source.packageName,
        config: model.config,
        options: r.options ? listOptions(r.options) : null,
      };
      model.dispose();
      return row;
    });
    if (this.jsonMode) return rows;
    const width = Math.max(...rows.map((r) => r.id.length), 2);
    for (const r of rows) {
      process.stdout.write(`${r.id.padEnd(width)}  ${r.parameters.toLocaleString('en-US').padStart(7)} parameters  ${r.description}  (${r.package})\n`);
      if (!flags.options) continue;
      const reg = registry.get('model', r.id);
      for (const line of reg.options ? describeOptions(reg.options) : ['(options not declared)']) process.stdout.write(`    ${line}\n`);
    }
  }
}
