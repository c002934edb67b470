import { rmSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { checkOutputPath, checkpointOf, checkTrainOptions, readCheckpoint, resolveTraining, saveCheckpoint, trainModelOn, UsageError } from '@l2o/core';
import { dryRunFlag, L2oCommand, parsePluginOptions, positiveInt } from '../base-command.js';
import { ComparisonProgress } from '../progress.js';

export default class Train extends L2oCommand {
  static override summary = 'Meta-train a learned optimizer and save its best checkpoint.';
  static override description =
    'Truncated back-propagation through time as in the papers (K iterations per batch in unroll segments, Adam, validation every N steps, best checkpoint kept). Ctrl-C saves a resumable checkpoint; --resume continues it.';
  static override examples = [
    '<%= config.bin %> train --model gru-mha --problem lasso --scale toy --out gru-mha.json',
    '<%= config.bin %> train --model lstm --problem logistic-l1 --learning-rate 3e-3 --validate-every 5',
    '<%= config.bin %> train --model gru --problem lasso --resume gru.json.resume',
    '<%= config.bin %> train --model lstm --problem lasso --micro-batch 8 --workers 2',
  ];

  static override flags = {
    model: Flags.string({ char: 'm', summary: 'Learned optimizer id.', required: true }),
    problem: Flags.string({ char: 'p', summary: 'Problem id.', required: true }),
    dataset: Flags.string({ char: 'd', summary: 'Training dataset.', default: 'synthetic' }),
    scale: Flags.string({ summary: 'smoke, quick, toy, cpu or paper.', default: 'toy' }),
    steps: Flags.integer({ summary: 'Global steps.' }),
    'batch-size': Flags.integer({ summary: 'Instances per global step.' }),
    'micro-batch': Flags.integer({ summary: 'Instances per forward/backward pass (gradients accumulated).' }),
    iterations: Flags.integer({ summary: 'Iterations K per training batch.' }),
    unroll: Flags.integer({ summary: 'Iterations per truncated-BPTT segment.' }),
    'learning-rate': Flags.string({ summary: 'Adam learning rate (1e-2 LASSO, 3e-3 logistic in the papers).' }),
    'validate-every': Flags.integer({ summary: 'Validate every N global steps.' }),
    workers: Flags.integer({ summary: 'Worker threads sharing each batch\'s micro-batches (data parallel, one core each; needs at least as many micro-batches).' }),
    'on-nan': Flags.option({ options: ['stop', 'skip'] as const, summary: 'On a non-finite loss: stop, or skip the step and halve the learning rate.', default: 'stop' })(),
    seed: Flags.integer({ default: 0, summary: 'Seed.' }),
    option: Flags.string({ char: 'o', multiple: true, summary: 'Plugin option <id>.<key>=<value>.' }),
    out: Flags.string({ summary: 'Checkpoint file to write.', default: 'checkpoint.json' }),
    resume: Flags.string({ summary: 'Continue from a resumable checkpoint written on interruption.' }),
    'data-dir': Flags.string({ env: 'L2O_DATA_DIR', summary: 'Raw dataset files.' }),
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Train);
    const options = parsePluginOptions(flags.option);
    const learningRate = flags['learning-rate'] === undefined ? undefined : Number(flags['learning-rate']);
    if (learningRate !== undefined && !(learningRate > 0)) throw new UsageError(`--learning-rate must be a positive number, got ${flags['learning-rate']}.`);
    const out = path.resolve(flags.out);
    checkOutputPath(out, 'file', '--out');
    const platform = await this.boot(flags, { dataDir: flags['data-dir'] });
    const resolved = resolveTraining(platform, {
      model: { id: flags.model, options: options.get(flags.model) },
      problem: { id: flags.problem, options: options.get(flags.problem) },
      dataset: { id: flags.dataset, options: options.get(flags.dataset) },
      scale: flags.scale,
      seed: flags.seed,
      training: {
        ...(flags.steps !== undefined ? { globalSteps: positiveInt('steps', flags.steps) } : {}),
        ...(flags['batch-size'] !== undefined ? { batchSize: positiveInt('batch-size', flags['batch-size']) } : {}),
        ...(flags['micro-batch'] !== undefined ? { microBatch: positiveInt('micro-batch', flags['micro-batch']) } : {}),
        ...(flags.iterations !== undefined ? { iterations: positiveInt('iterations', flags.iterations) } : {}),
        ...(flags.unroll !== undefined ? { unroll: positiveInt('unroll', flags.unroll) } : {}),
        ...(flags['validate-every'] !== undefined ? { validateEvery: positiveInt('validate-every', flags['validate-every']) } : {}),
        ...(learningRate !== undefined ? { learningRate } : {}),
        // Only when > 1: --workers 1 is the default and must resume checkpoints written without it.
        ...((positiveInt('workers', flags.workers) ?? 1) > 1 ? { workers: flags.workers } : {}),
        onNonFinite: flags['on-nan'],
      },
    });
    checkTrainOptions(resolved.training);
    const resumeFile = `${out}.resume`;
    if (flags['dry-run']) {
      if (flags.resume && !readCheckpoint(flags.resume).training) throw new UsageError(`${flags.resume} is a final checkpoint, not a resumable one.`, 'Resume from the file written on interruption.');
      const t = resolved.training;
      const plan = { model: resolved.model.modelId, parameters: resolved.model.parameterCount(), problem: resolved.problem.id, dataset: resolved.dataset.id, training: t, out, resume: flags.resume ?? null };
      resolved.model.dispose();
      if (this.jsonMode) return this.printJson({ plan });
      process.stdout.write(
        `dry run: would train ${plan.model} (${plan.parameters} parameters) on ${plan.problem} / ${plan.dataset}: ${t.globalSteps} steps of ${t.batchSize}, K ${t.iterations}, unroll ${t.unroll}, learning rate ${t.learningRate}${flags.resume ? `, resuming ${flags.resume}` : ''}; checkpoint to ${out}\n`,
      );
      return;
    }
    this.note(`engine: ${platform.engine.chosen}; ${resolved.model.modelId} with ${resolved.model.parameterCount()} parameters`);
    const progress = new ComparisonProgress(!this.quietMode && !this.jsonMode);
    try {
      const result = await trainModelOn(
        platform,
        { ...resolved, resumeFile, resumeFrom: flags.resume },
        (p) => progress.handle({ kind: 'train', optimizer: resolved.model.modelId, progress: p }),
        this.interrupt.signal,
      );
      progress.stop();
      if (result.interrupted) {
        // The exit code (130 or 143) is set for every interrupted command in L2oCommand.finally.
        this.note(`saved a resumable checkpoint after ${result.completedSteps} global steps: ${resumeFile} (continue with --resume ${resumeFile})`);
        if (this.jsonMode) this.printJson({ interrupted: true, resume: resumeFile, completedSteps: result.completedSteps });
        return;
      }
      if (result.best) resolved.model.setWeights(result.best.weights);
      saveCheckpoint(out, checkpointOf(resolved.model, { meta: { ...resolved.meta, bestValidation: result.best?.loss, bestStep: result.best?.step, trainingSeconds: result.seconds, training: resolved.training } }));
      // The training is complete: a resume file of this output is stale now.
      rmSync(resumeFile, { force: true });
      if (this.jsonMode) {
        this.printJson({ checkpoint: out, best: result.best && { step: result.best.step, loss: result.best.loss }, seconds: result.seconds, validation: result.validation });
      } else {
        process.stdout.write(`best validation loss ${result.best?.loss.toPrecision(6)} at step ${result.best?.step}; ${result.seconds.toFixed(1)} s\ncheckpoint: ${out}\n`);
      }
    } finally {
      progress.stop();
    }
  }
}
