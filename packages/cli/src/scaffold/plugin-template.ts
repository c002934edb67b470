import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, writeDirAtomic, type PluginKind } from '@l2o/core';
import { baselineFiles } from './templates/baseline.js';
import { datasetFiles } from './templates/dataset.js';
import { modelFiles } from './templates/model.js';
import { problemFiles } from './templates/problem.js';

/** What `l2o plugin new --kind` scaffolds; a baseline registers an optimizer. */
export const SCAFFOLD_KINDS = ['model', 'problem', 'dataset', 'baseline'] as const;
export type ScaffoldKind = (typeof SCAFFOLD_KINDS)[number];

/** The installed versions of @l2o/core and @l2o/models the new package is written against. */
export interface ScaffoldVersions {
  /** An exact version, e.g. `0.1.0` (not a range). */
  core: string;
  models: string;
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function exactVersion(pkg: string, version: string): string {
  if (!EXACT_VERSION.test(version)) {
    throw new Error(`The scaffold needs the exact installed version of ${pkg}, not '${version}'.`);
  }
  return version;
}

/** The id a scaffolded package registers: its name without scope and `l2o-plugin-` prefix. */
export function pluginModelId(name: string): string {
  return name
    .replace(/^@[^/]+\//, '')
    .replace(/^l2o-plugin-/, '')
    .replace(/[^a-z0-9-]/g, '-');
}

/** What a scaffolded package of each kind registers (the problem brings a dataset of its instances). */
export function scaffoldRegistrations(kind: ScaffoldKind, id: string): { kind: PluginKind; id: string }[] {
  if (kind === 'problem') {
    return [
      { kind: 'problem', id },
      { kind: 'dataset', id: `${id}-random` },
    ];
  }
  return [{ kind: kind === 'baseline' ? 'optimizer' : kind, id }];
}

const CODE: Record<ScaffoldKind, (name: string, id: string) => Record<string, string>> = {
  model: modelFiles,
  problem: problemFiles,
  dataset: datasetFiles,
  baseline: baselineFiles,
};

/** Per kind: the package description, the README's summary and its commands after installing. */
function about(kind: ScaffoldKind, id: string): { description: string; summary: string; usage: string } {
  switch (kind) {
    case 'model':
      return {
        description: `A learned optimizer for l2o: ${id}.`,
        summary: `\`${id}\`, a backbone with\nthe shared L2O-PA heads and update.`,
        usage:
          `l2o models                                              # lists ${id} with its parameter count\n` +
          `l2o run --model ${id} --problem lasso --scale quick   # trains it and compares it with ISTA and FISTA`,
      };
    case 'problem':
      return {
        description: `A composite problem for l2o: ${id}, with a dataset of its instances.`,
        summary: `the problem \`${id}\` (robust regression:\nΣ huber_δ(Ax − b) + λ‖x‖₁) and \`${id}-random\`, a generator of its instances.`,
        usage:
          `l2o plugins                                             # lists ${id} and ${id}-random\n` +
          `l2o run --problem ${id} --optimizer ista --against fista --scale quick   # F* by FISTA, then ISTA against it`,
      };
    case 'dataset':
      return {
        description: `A dataset for l2o: ${id}, generated LASSO instances.`,
        summary: `\`${id}\`, a seeded generator of LASSO\ninstances with correlated columns.`,
        usage: `l2o plugins --options                                   # lists ${id} with its options\nl2o run --problem lasso --dataset ${id} --optimizer fista --scale quick`,
      };
    case 'baseline':
      return {
        description: `A hand-designed optimizer for l2o: ${id}.`,
        summary: `\`${id}\`, ISTA with a fixed step, a\nbaseline learned optimizers are compared with.`,
        usage: `l2o plugins                                             # lists ${id}\nl2o run --problem lasso --optimizer ${id} -o ${id}.step=0.1 --against fista --scale quick`,
      };
  }
}

/**
 * Files of a new third-party package of one kind: plugin.js (a small working implementation to
 * edit), a test on node's own runner, package.json and a README. Plain ES modules: no build.
 * The ranges are derived here, once, from the exact installed versions.
 */
export function pluginTemplate(name: string, id: string, versions: ScaffoldVersions, kind: ScaffoldKind = 'model'): Record<string, string> {
  const core = exactVersion('@l2o/core', versions.core);
  // A model builds on @l2o/models' layers; the other kinds need only the contracts in core.
  const pins: Record<string, string> =
    kind === 'model' ? { '@l2o/core': core, '@l2o/models': exactVersion('@l2o/models', versions.models) } : { '@l2o/core': core };
  const { description, summary, usage } = about(kind, id);
  return {
    'package.json': `${JSON.stringify(
      {
        name,
        version: '0.1.0',
        description,
        license: 'MIT',
        type: 'module',
        main: './plugin.js',
        files: ['plugin.js', 'README.md'],
        l2o: { plugin: './plugin.js' },
        scripts: { test: 'node --test' },
        // A caret range: the plugin shares the host's core (one tfjs engine, one registry).
        peerDependencies: Object.fromEntries(Object.entries(pins).map(([pkg, v]) => [pkg, `^${v}`])),
        // What its own test runs against, pinned: `npm install && npm test` in a fresh checkout.
        devDependencies: pins,
      },
      null,
      2,
    )}\n`,
    ...CODE[kind](name, id),
    'README.md': `# ${name}

A ${kind === 'model' ? 'learned optimizer' : kind} for [l2o](https://www.npmjs.com/package/@l2o/cli): ${summary}

\`\`\`sh
npm install && npm test                                 # node --test, against @l2o/core ${core}
\`\`\`

Install it next to \`@l2o/cli\` (publish it, or \`npm pack\` here and \`npm install <the .tgz>\` there) and
l2o finds it with no configuration; or pass \`--plugin <this folder>\`:

\`\`\`sh
${usage}
\`\`\`

Edit plugin.js; the contracts are in @l2o/core (see docs/plugins.md of l2o).
`,
  };
}

/** Writes a new plugin package into `dir` (which must not exist), atomically. */
export async function scaffoldPlugin(dir: string, name: string, versions: ScaffoldVersions, kind: ScaffoldKind = 'model'): Promise<string[]> {
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) {
    throw new UsageError(`'${name}' is not a valid npm package name.`, 'Use lower-case letters, digits and dashes, e.g. l2o-plugin-mygru.');
  }
  if (existsSync(dir)) throw new UsageError(`${dir} already exists.`, 'Choose a new folder.');
  const files = pluginTemplate(name, pluginModelId(name), versions, kind);
  await writeDirAtomic(path.resolve(dir), (tmp) => {
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(tmp, file), content);
  });
  return Object.keys(files);
}
