import path from 'node:path';
import { Flags } from '@oclif/core';
import { checkOutputPath, LIMITS, planComparison, UsageError, type OptimizerRef } from '@l2o/core';
import { parsePluginOptions } from '../base-command.js';
import { ComparisonCommand } from '../comparison-command.js';
import {
  cacheDirFlag,
  dataDirFlag,
  downloadFlag,
  dryRunFlag,
  optionFlag,
  retrainFlag,
  runsDirFlag,
  scaleFlag,
  seedFlag,
  storeFlag,
  workersFlag,
} from '../flags.js';
import { integerIn } from '../numeric-flags.js';
import { planText } from '../format.js';
import { trainingFlags, trainingOptionsFrom } from '../training-flags.js';

export default class Run extends ComparisonCommand {
  static override summary = 'Train learned optimizers (or reuse their checkpoints) and compare them with baselines on one test set.';
  static override description =
    "Learned optimizers (--model) are meta-trained on the training dataset (the problem's synthetic distribution by default) unless a checkpoint of identical config is cached, then every optimizer runs on the same test instances. Prints mean F and relative gap at a few iterations and writes a run directory (config, per-iteration metrics as CSV and JSON, checkpoints, summary).";

  static override examples = [
    '<%= config.bin %> run --optimizer fista --problem lasso --dataset synthetic --iterations 500',
    '<%= config.bin %> run --model gru-mha --problem lasso --dataset synthetic --scale quick',
    '<%= config.bin %> run --model gru-mha --model lstm --problem lasso --dataset bsds500 --against ista,fista,adam',
    '<%= config.bin %> run --model gru-mha -o gru-mha.attention.axis=history --problem lasso',
    '<%= config.bin %> run --model gru-mha --pretrained lasso-250x500 --problem lasso --dataset bsds500',
    '<%= config.bin %> run --optimizer fista --problem logistic-l1 --dataset ionosphere --json',
  ];

  static override flags = {
    model: Flags.string({ char: 'm', summary: 'Learned optimizer to train and evaluate (repeatable).', multiple: true }),
    optimizer: Flags.string({ summary: 'Hand-designed optimizer to evaluate (repeatable).', multiple: true }),
    against: Flags.string({ summary: 'Baselines to compare with, comma-separated (default with --model: ista,fista; "none" for none).' }),
    problem: Flags.string({ char: 'p', summary: 'Problem id (lasso, logistic-l1, ...).', required: true }),
    dataset: Flags.string({ char: 'd', summary: "Test dataset (default: the problem's own, synthetic for lasso and logistic-l1)." }),
    'train-dataset': Flags.string({ summary: "Dataset learned optimizers are trained on (default: the problem's own)." }),
    ...scaleFlag('quick'),
    iterations: Flags.integer({ ...integerIn(LIMITS.iterations), char: 'k', summary: 'Test iterations per instance (overrides the scale).' }),
    'test-count': Flags.integer({ ...integerIn(LIMITS.instances), summary: 'Test instances (overrides the scale).' }),
    ...trainingFlags,
    ...workersFlag({
      description: `${trainingFlags.workers.description} Also the test set's reference solve and the evaluations: contiguous blocks of batches, the same numbers as one thread.`,
    }),
    ...seedFlag(),
    ...optionFlag,
    checkpoint: Flags.string({ summary: 'Evaluate this checkpoint for the (single) --model instead of training.', exclusive: ['pretrained'] }),
    pretrained: Flags.string({
      summary: 'Evaluate the pretrained weights of this name for every --model instead of training (l2o models --pretrained lists them).',
      exclusive: ['checkpoint'],
    }),
    ...retrainFlag,
    ...dataDirFlag,
    ...downloadFlag,
    ...runsDirFlag,
    ...dryRunFlag,
    ...storeFlag,
    ...cacheDirFlag,
    name: Flags.string({ summary: 'Name of the run (used in the run directory name).' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Run);
    const models = flags.model ?? [];
    const baselines = flags.optimizer ?? [];
    if (flags.checkpoint && models.length !== 1) throw new UsageError('--checkpoint needs exactly one --model.');
    if (flags.pretrained && models.length === 0)
      throw new UsageError('--pretrained needs a --model.', 'Add --model <id> (l2o models --pretrained lists what is pretrained).');
    const against =
      flags.against === undefined
        ? models.length
          ? ['ista', 'fista']
          : []
        : flags.against === 'none'
          ? []
          : flags.against
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
    const ids = [...models, ...baselines, ...against.filter((a) => !baselines.includes(a))];
    if (ids.length === 0) throw new UsageError('Nothing to run.', 'Give --model <id> or --optimizer <id>.');
    const options = parsePluginOptions(flags.option);
    checkOutputPath(flags['runs-dir'], 'dir', '--runs-dir');
    const platform = await this.boot(flags, {
      runsDir: path.resolve(flags['runs-dir']),
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
      dataDir: flags['data-dir'],
      allowDownload: flags.download,
    });
    // A plugin's problem names its own dataset (the platform's synthetic one serves only its problems).
    const ownDataset = () => platform.registry.get('problem', flags.problem).create(options.get(flags.problem) ?? {}).defaultDataset;
    const testDataset = flags.dataset ?? ownDataset();
    const trainDataset = flags['train-dataset'] ?? ownDataset();
    const known = new Set([...ids, flags.problem, testDataset, trainDataset]);
    for (const id of options.keys()) {
      if (!known.has(id)) throw new UsageError(`-o ${id}.…: '${id}' is not one of the optimizers, problem or datasets of this run.`);
    }
    const optimizers: OptimizerRef[] = ids.map((id, i) => ({
      id,
      options: options.get(id),
      expect: i < models.length ? 'model' : 'optimizer',
      ...(flags.checkpoint && id === models[0] ? { checkpoint: flags.checkpoint } : {}),
      ...(flags.pretrained && i < models.length ? { pretrained: flags.pretrained } : {}),
    }));
    const comparison = {
      name: flags.name ?? `${[...models, ...baselines].join('-') || 'baselines'}-${flags.problem}-${testDataset}`,
      problem: { id: flags.problem, options: options.get(flags.problem) },
      trainDataset: { id: trainDataset, options: options.get(trainDataset) },
      testDataset: { id: testDataset, options: options.get(testDataset) },
      optimizers,
      scale: flags.scale,
      seed: flags.seed,
      training: trainingOptionsFrom(flags),
      test: {
        ...(flags.iterations !== undefined ? { iterations: flags.iterations } : {}),
        ...(flags['test-count'] !== undefined ? { count: flags['test-count'] } : {}),
      },
      retrain: flags.retrain,
    };
    if (flags['dry-run']) {
      const plan = await planComparison(platform, comparison);
      if (this.jsonMode) return { plan };
      process.stdout.write(`${planText(plan)}\n`);
      return;
    }
    return this.runAndPrint(platform, comparison);
  }
}
