import { Flags } from '@oclif/core';
import { describeOptions, listOptions, type Registered } from '@l2o/core';
import { L2oCommand } from '../base-command.js';
import { listOptionsFlag } from '../flags.js';
import { trainedByText } from '../format.js';

export default class Models extends L2oCommand {
  static override summary = 'List the learned optimizers with their exact parameter counts (default config).';
  static override examples = [
    '<%= config.bin %> models',
    '<%= config.bin %> models --options',
    '<%= config.bin %> models --pretrained',
    '<%= config.bin %> models --json',
  ];
  static override flags = {
    ...listOptionsFlag,
    pretrained: Flags.boolean({
      summary: 'List the pretrained weights instead: per model, the name `l2o run --pretrained` takes and how each was trained.',
      exclusive: ['options'],
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Models);
    const { registry } = await this.boot(flags);
    if (flags.pretrained) return this.listPretrained(registry.list('pretrained'));
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

  private listPretrained(entries: Registered<'pretrained'>[]): unknown {
    const rows = entries.map((p) => ({
      model: p.model,
      name: p.name,
      description: p.description,
      trainedWith: p.trainedWith,
      checkpoint: p.checkpoint,
      package: p.source.packageName,
    }));
    if (this.jsonMode) return rows;
    if (rows.length === 0) {
      process.stdout.write('No pretrained weights are installed (npm install @l2o/pretrained).\n');
      return;
    }
    const width = (f: (r: (typeof rows)[number]) => string) => Math.max(...rows.map((r) => f(r).length));
    const [wm, wn] = [width((r) => r.model), width((r) => r.name)];
    for (const r of rows) {
      const t = r.trainedWith;
      const trained = `${t.problem} on ${t.dataset}, ${t.spec} at ${t.scale} scale, seed ${t.seed}: ${t.globalSteps} steps of ${t.batchSize}, best validation ${t.bestValidation.toPrecision(4)} at step ${t.bestStep}, ${trainedByText(t)}`;
      process.stdout.write(`${r.model.padEnd(wm)}  ${r.name.padEnd(wn)}  ${trained}  (${r.package})\n`);
    }
  }
}
