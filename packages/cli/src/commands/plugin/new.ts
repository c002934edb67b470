import path from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import { Args, Flags } from '@oclif/core';
import { pluginModelId, scaffoldPlugin, UsageError, type PluginKind, type PluginRegistry } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';

const require = createRequire(import.meta.url);
// npm's own rules (CommonJS, untyped): `validForNewPackages` is false on any error or warning.
const validateNpmName = require('validate-npm-package-name') as (name: string) => { validForNewPackages: boolean; errors?: string[]; warnings?: string[] };

/** A name as the error shows it: a very long one cut, with its length. */
function shown(name: string): string {
  return name.length > 64 ? `'${name.slice(0, 40)}…' (${name.length} characters)` : `'${name}'`;
}

/** Refuses a name npm would not publish, or that Node or an installed plugin already owns. */
function checkName(name: string): void {
  // Before npm's check: its "is a core module name" says no more than that.
  if (builtinModules.includes(name.toLowerCase())) {
    throw new UsageError(
      `${shown(name)} is the name of a Node.js built-in module: importing it would load Node's, not the package.`,
      `Choose another name, e.g. l2o-plugin-${name.toLowerCase()}.`,
    );
  }
  const npm = validateNpmName(name);
  if (!npm.validForNewPackages) {
    throw new UsageError(
      `${shown(name)} is not a valid name for a new npm package: ${[...(npm.errors ?? []), ...(npm.warnings ?? [])].join('; ')}.`,
      'Use lower-case letters, digits and dashes, at most 214 characters, e.g. l2o-plugin-mygru.',
    );
  }
}

/**
 * Refuses a name whose model id the platform already has, of any kind: experiments look baselines
 * and models up by one id (a model 'fista' would be shadowed), and runs and reports name them by id.
 */
function checkIdFree(name: string, registry: PluginRegistry): void {
  const id = pluginModelId(name);
  const kind = (['model', 'optimizer', 'problem', 'dataset'] as const satisfies readonly PluginKind[]).find((k) => registry.has(k, id));
  if (!kind) return;
  const owner = registry.get(kind, id).source.packageName;
  const what = kind === 'optimizer' ? 'baseline' : kind;
  const subject = id === name ? `'${id}' is already` : `${shown(name)} gives the model id '${id}', already`;
  throw new UsageError(`${subject} registered as a ${what} by ${owner}.`, `Choose another name, e.g. l2o-plugin-my-${id}.`);
}

export default class PluginNew extends L2oCommand {
  static override summary = 'Scaffold a third-party learned-optimizer package (a PA-family backbone, a test, a README).';
  static override examples = ['<%= config.bin %> plugin new l2o-plugin-mygru', '<%= config.bin %> plugin new @lab/l2o-lstm-attention --dir lstm-attention'];
  static override args = { name: Args.string({ required: true, description: 'npm package name.' }) };
  static override flags = { dir: Flags.string({ summary: 'Folder to create (default: the name without scope).' }) };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(PluginNew);
    checkName(args.name);
    // The scaffold registers a model under an id from the name: it must be free on this platform.
    checkIdFree(args.name, (await this.boot(flags)).registry);
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
