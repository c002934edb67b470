import { L2oCommand } from '../base-command.js';

export default class Plugins extends L2oCommand {
  static override summary = 'List the discovered plugin packages and what each registers.';
  static override examples = ['<%= config.bin %> plugins', '<%= config.bin %> plugins --plugin ./my-l2o-plugin --json'];
  static override flags = {};

  async run(): Promise<void> {
    const { flags } = await this.parse(Plugins);
    const { registry, pluginErrors } = await this.boot(flags);
    const kinds = ['problem', 'optimizer', 'model', 'dataset'] as const;
    const plugins = registry.plugins().map((p) => ({
      package: p.packageName,
      version: p.version,
      path: p.root,
      registers: Object.fromEntries(
        kinds.map((k) => [k, registry.list(k).filter((r) => r.source.root === p.root).map((r) => r.id)]).filter(([, ids]) => ids.length),
      ),
    }));
    if (this.jsonMode) return this.printJson(pluginErrors.length ? [...plugins, ...pluginErrors.map((e) => ({ package: e.packageName, error: e.message }))] : plugins);
    for (const p of plugins) {
      const what = Object.entries(p.registers).map(([k, ids]) => `${k}s: ${(ids as string[]).join(', ')}`).join('; ');
      process.stdout.write(`${p.package}@${p.version}  ${what}\n`);
      if (!this.quietMode) process.stdout.write(`  ${p.path}\n`);
    }
    for (const e of pluginErrors) process.stdout.write(`${e.packageName}  not loaded: ${e.message}\n`);
  }
}
