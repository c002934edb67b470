import { describeOptions, listOptions, type PluginKind } from '@l2o/core';
import { L2oCommand } from '../base-command.js';
import { listOptionsFlag } from '../flags.js';

export default class Plugins extends L2oCommand {
  static override summary = 'List the discovered plugin packages and what each registers.';
  static override description =
    'With --options, also every option of every problem, optimizer, model and dataset: its name (nested ones dotted, as -o id.attention.heads=2 takes them), default and description, from the fields the plugin declares.';

  static override examples = ['<%= config.bin %> plugins', '<%= config.bin %> plugins --options', '<%= config.bin %> plugins --plugin ./my-l2o-plugin --json'];

  static override flags = {
    ...listOptionsFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Plugins);
    const { registry, pluginErrors } = await this.boot(flags);
    const kinds = ['problem', 'optimizer', 'model', 'dataset'] as const satisfies readonly PluginKind[];
    const mine = <K extends PluginKind>(root: string, k: K) => registry.list(k).filter((r) => r.source.root === root);
    const plugins = registry.plugins().map((p) => ({
      package: p.packageName,
      version: p.version,
      path: p.root,
      registers: Object.fromEntries(
        [...kinds, 'pretrained' as const].map((k) => [k, mine(p.root, k).map((r) => r.id)] as const).filter(([, ids]) => ids.length > 0),
      ),
      // Per kind and id; null: the plugin declares no option fields for it.
      ...(flags.options
        ? {
            options: Object.fromEntries(
              kinds
                .map((k) => [k, Object.fromEntries(mine(p.root, k).map((r) => [r.id, r.options ? listOptions(r.options) : null]))] as const)
                .filter(([, byId]) => Object.keys(byId).length),
            ),
          }
        : {}),
    }));
    if (this.jsonMode) return pluginErrors.length ? [...plugins, ...pluginErrors.map((e) => ({ package: e.packageName, error: e.message }))] : plugins;
    for (const p of plugins) {
      const what = Object.entries(p.registers)
        .map(([k, ids]) => `${k}s: ${ids.join(', ')}`)
        .join('; ');
      process.stdout.write(`${p.package}@${p.version}  ${what}\n`);
      if (!this.quietMode) process.stdout.write(`  ${p.path}\n`);
      if (!flags.options) continue;
      for (const k of kinds) {
        for (const r of mine(p.path, k)) {
          const lines = r.options ? describeOptions(r.options) : ['(options not declared)'];
          process.stdout.write(`  ${k} ${r.id}${lines.length ? '' : ': no options'}\n`);
          for (const line of lines) process.stdout.write(`    ${line}\n`);
        }
      }
    }
    for (const e of pluginErrors) process.stdout.write(`${e.packageName}  not loaded: ${e.message}\n`);
  }
}
