import { Flags } from '@oclif/core';
import { LIMITS } from '@l2o/core';
import { integerIn } from './numeric-flags.js';

// The flags several commands share, each declared once here with one summary: a command spreads
// the ones it takes (`...dataDirFlag`). Where a command gives a flag a default of its own, or more
// to say (its `description`, shown under FLAG DESCRIPTIONS), the flag is a function of those; the
// summary stays the same everywhere.

/** Every command's: L2oCommand's baseFlags. */
export const globalFlags = {
  backend: Flags.string({
    summary: 'Tensor engine: auto, tensorflow-gpu, tensorflow, wasm or cpu.',
    env: 'L2O_BACKEND',
    default: 'auto',
    helpGroup: 'GLOBAL',
  }),
  plugin: Flags.string({ summary: 'Load a plugin package from this path (repeatable).', multiple: true, helpGroup: 'GLOBAL' }),
  quiet: Flags.boolean({ char: 'q', summary: 'Print only the result.', helpGroup: 'GLOBAL' }),
};

/** Check everything, say what would run, stop: for the commands that do long work. */
export const dryRunFlag = {
  'dry-run': Flags.boolean({ summary: 'Check every id, option, input and output, print what would run, and stop before any work.' }),
};

export const dataDirFlag = {
  'data-dir': Flags.string({
    summary: 'Folder with the raw dataset files (bsds500/images/test/*.jpg, uci/ionosphere.data, uci/spambase.data).',
    env: 'L2O_DATA_DIR',
  }),
};

export const downloadFlag = {
  download: Flags.boolean({ summary: 'Allow downloading missing datasets from their official sources.' }),
};

export const cacheDirFlag = {
  'cache-dir': Flags.string({ summary: 'Cache for test sets, datasets and checkpoints.', env: 'L2O_CACHE_DIR' }),
};

export const runsDirFlag = {
  'runs-dir': Flags.string({ summary: 'Where run directories are written.', default: 'runs' }),
};

/** The run store: where commands that make runs store them, and where `l2o runs …` reads them. */
export const storeFlag = {
  store: Flags.string({
    summary: "Run store: a folder (embedded PostgreSQL, the default $XDG_DATA_HOME/l2o/store), postgres://user@host:port/db, or 'off'.",
    env: 'L2O_STORE',
  }),
};

/** The Redis of a BullMQ sweep queue, shared by `l2o sweep …` and `l2o worker`. */
export const queueFlag = {
  queue: Flags.string({ env: 'L2O_QUEUE', summary: 'Redis of the sweep queue, redis://host:port (BullMQ); none: run locally.' }),
};

/** `--where KEY=VALUE`, for the commands that select stored runs by their config (see parseWhere). */
export const whereFlag = {
  where: Flags.string({
    summary: 'Runs whose config.json has VALUE at the dotted path KEY, compared as text (repeatable: all must hold), e.g. seed=1, training.globalSteps=400.',
    description:
      "KEY is looked up at config.json's top level (training, test, scale, reference: the resolved settings) and under its spec (seed, problem.options.lambda, …); either matching is enough. Array items are numbered from 0 (spec.optimizers.0.id=gru-mha). Values are compared as JSON prints them: 400, 0.1, true, lasso.",
    helpValue: 'KEY=VALUE',
    multiple: true,
  }),
};

/** `-o id.key=value`, parsed by parsePluginOptions. */
export const optionFlag = {
  option: Flags.string({
    char: 'o',
    summary: 'Plugin option <id>.<key>=<value> (repeatable), e.g. gru-mha.attention.heads=2 or synthetic.preset=toy.',
    multiple: true,
  }),
};

/** `l2o models --options`, `l2o plugins --options`. */
export const listOptionsFlag = {
  options: Flags.boolean({ summary: 'Also list every option with its default and description (always in --json).' }),
};

export const retrainFlag = {
  retrain: Flags.boolean({ summary: 'Train even when a checkpoint of identical config is cached.' }),
};

/** --scale, with the command's default; `description` says what the scale selects there. */
export function scaleFlag(defaultScale: string, description?: string) {
  return { scale: Flags.string({ summary: 'Run size: smoke, quick, toy, cpu or paper.', default: defaultScale, description }) };
}

/** --seed: 0 by default, or none (`default: undefined`) where a spec has its own. */
export function seedFlag(options: { default?: number; description?: string; exclusive?: string[] } = {}) {
  return {
    seed: Flags.integer({
      ...integerIn(LIMITS.seed),
      summary: 'Seed of every random draw (model initialisation, training draws, test set).',
      default: 'default' in options ? options.default : 0,
      description: options.description,
      exclusive: options.exclusive,
    }),
  };
}

/** --seeds 0..4 or 0,3,7 (parsed by @l2o/sweep's parseSeeds). */
export function seedsFlag(description: string) {
  return { seeds: Flags.string({ summary: 'Seeds: a range 0..4 or a list 0,3,7; a run per seed, then their mean ± 95% t-interval.', description }) };
}

/**
 * --workers: threads or processes, one core each (checkParallelism checks the count against the
 * cores); `description` says what they share in this command.
 */
export function workersFlag(options: { description: string; default?: number; exclusive?: string[] }) {
  return {
    workers: Flags.integer({
      ...integerIn({ min: 1 }),
      summary: 'Workers running at once, one core each (at most 4 per core).',
      description: options.description,
      default: options.default,
      exclusive: options.exclusive,
    }),
  };
}
