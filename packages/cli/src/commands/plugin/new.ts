import path from 'node:path';
import { builtinModules, createRequire } from 'node:module';
import { Args, Flags } from '@oclif/core';
import { UsageError, type PluginKind, type PluginRegistry } from '@l2o/core';
import { L2oCommand } from '../../base-command.js';
import { pluginModelId, SCAFFOLD_KINDS, scaffoldPlugin, scaffoldRegistrations, type ScaffoldKind } from '../../scaffold/plugin-template.js';

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

const noun = (kind: PluginKind) => (kind === 'optimizer' ? 'baseline' : kind);

/**
 * Refuses a name whose ids (the scaffold registers under the name's id) the platform already has,
 * of any kind: experiments look baselines and models up by one id (a model 'fista' would be
 * shadowed), and runs and reports name them by id.
 */
function checkIdFree(name: string, kind: ScaffoldKind, registry: PluginRegistry): void {
  const id = pluginModelId(name);
  for (const wanted of scaffoldRegistrations(kind, id)) {
    const taken = (['model', 'optimizer', 'problem', 'dataset'] as const satisfies readonly PluginKind[]).find((k) => registry.has(k, wanted.id));
    if (!taken) continue;
    const owner = registry.get(taken, wanted.id).source.packageName;
    const subject = wanted.id === name ? `'${wanted.id}' is already` : `${shown(name)} gives the ${noun(wanted.kind)} id '${wanted.id}', already`;
    throw new UsageError(`${subject} registered as a ${noun(taken)} by ${owner}.`, `Choose another name, e.g. l2o-plugin-my-${id}.`);
  }
}

export default class PluginNew extends L2oCommand {
  static override summary =
    'Scaffold a third-party plugin package: a learned optimizer, a problem, a dataset or a baseline (working code to edit, a test, a README).';
  static override examples = [
    '<%= config.bin %> plugin new l2o-plugin-mygru',
    '<%= config.bin %> plugin new @lab/l2o-lstm-attention --dir lstm-attention',
    '<%= config.bin %> plugin new l2o-plugin-robust --kind problem',
  ];
  static override args = { name: Args.string({ required: true, description: 'npm package name.' }) };
  static override flags = {
    dir: Flags.string({ summary: 'Folder to create (default: the name without scope).' }),
    kind: Flags.string({
      summary:
        'What the package registers: model (a PA-family learned optimizer), problem (a composite problem and a dataset of its instances), dataset (a generator of LASSO instances) or baseline (a hand-designed optimizer).',
      options: [...SCAFFOLD_KINDS],
      default: 'model',
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(PluginNew);
    checkName(args.name);
    // The scaffold registers under an id from the name: it must be free on this platform.
    const kind = flags.kind as ScaffoldKind;
    checkIdFree(args.name, kind, (await this.boot(flags)).registry);
    const dir = path.resolve(flags.dir ?? args.name.replace(/^@[^/]+\//, ''));
    // The exact installed versions; the scaffold derives its ranges from them.
    const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
    const files = await scaffoldPlugin(dir, args.name, { core: version('@l2o/core'), models: version('@l2o/models') }, kind);
    if (this.jsonMode) return { dir, kind, files };
    const rel = path.relative(process.cwd(), dir) || '.';
    const shown = rel.startsWith('.') || path.isAbsolute(rel) ? rel : `./${rel}`;
    process.stdout.write(
      `created ${dir}: ${files.join(', ')}\n` +
        `next: cd ${shown} && npm install && npm test\n` +
        `then: l2o ${kind === 'model' ? 'models' : 'plugins'} --plugin ${shown}   (or npm pack it and npm install the .tgz next to @l2o/cli: found with no config)\n`,
    );
  }
}
