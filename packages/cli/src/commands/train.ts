import path from 'node:path';
import { Flags } from '@oclif/core';
import { checkOutputPath, checkTrainOptions, finishTraining, readCheckpoint, resolveTraining, trainModelOn, UsageError } from '@l2o/core';
import { L2oCommand, parsePluginOptions } from '../base-command.js';
import { dataDirFlag, dryRunFlag, optionFlag, scaleFlag, seedFlag, storeFlag } from '../flags.js';
import { ComparisonProgress } from '../progress.js';
import { protocolFlags, protocolOptionsFrom, trainingFlags, trainingOptionsFrom } from '../training-flags.js';

export default class Train extends L2oCommand {
  static override summary = 'Meta-train a learned optimizer and save its best checkpoint.';
  static override description =
    'Truncated back-propagation through time as in the papers (K iterations per batch in unroll segments, Adam, validation every N steps, best checkpoint kept). Ctrl-C saves a resumable checkpoint; --resume continues it. The checkpoint is also stored in the run store (--store; `l2o runs trainings` lists them).';
  static override examples = [
    '<%= config.bin %> train --model gru-mha --problem lasso --scale toy --out gru-mha.json',
    '<%= config.bin %> train --model lstm --problem logistic-l1 --learning-rate 3e-3 --validate-every 5',
    '<%= config.bin %> train --model gru --problem lasso --resume gru.json.resume',
    '<%= config.bin %> train --model lstm --problem lasso --workers 2',
  ];

  static override flags = {
    model: Flags.string({ char: 'm', summary: 'Learned optimizer id.', required: true }),
    problem: Flags.string({ char: 'p', summary: 'Problem id.', required: true }),
    dataset: Flags.string({ char: 'd', summary: 'Training dataset.', default: 'synthetic' }),
    ...scaleFlag('toy'),
    ...trainingFlags,
    ...protocolFlags,
    ...seedFlag(),
    ...optionFlag,
    out: Flags.string({ summary: 'Checkpoint file to write.', default: 'checkpoint.json' }),
    resume: Flags.string({ summary: 'Continue from a resumable checkpoint written on interruption.' }),
    ...storeFlag,
    ...dataDirFlag,
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Train);
    const options = parsePluginOptions(flags.option);
    const out = path.resolve(flags.out);
    checkOutputPath(out, 'file', '--out');
    const platform = await this.boot(flags, { dataDir: flags['data-dir'] });
    const resolved = resolveTraining(platform, {
      model: { id: flags.model, options: options.get(flags.model) },
      problem: { id: flags.problem, options: options.get(flags.problem) },
      dataset: { id: flags.dataset, options: options.get(flags.dataset) },
      scale: flags.scale,
      seed: flags.seed,
      training: { ...trainingOptionsFrom(flags), ...protocolOptionsFrom(flags) },
    });
    checkTrainOptions(resolved.training);
    const resumeFile = `${out}.resume`;
    if (flags['dry-run']) {
      if (flags.resume && !readCheckpoint(flags.resume).training)
        throw new UsageError(`${flags.resume} is a final checkpoint, not a resumable one.`, 'Resume from the file written on interruption.');
      const t = resolved.training;
      const plan = {
        model: resolved.model.modelId,
        parameters: resolved.model.parameterCount(),
        problem: resolved.problem.id,
        dataset: resolved.dataset.id,
        training: t,
        out,
        resume: flags.resume ?? null,
      };
      resolved.model.dispose();
      if (this.jsonMode) return { plan };
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
        return this.jsonMode ? { interrupted: true, resume: resumeFile, completedSteps: result.completedSteps } : undefined;
      }
      const stored = await finishTraining(platform, resolved, result, out);
      if (this.jsonMode) {
        return {
          checkpoint: out,
          stored: stored ?? null,
          best: result.best && { step: result.best.step, loss: result.best.loss },
          seconds: result.seconds,
          validation: result.validation,
        };
      }
      process.stdout.write(
        `best validation loss ${result.best?.loss.toPrecision(6)} at step ${result.best?.step}; ${result.seconds.toFixed(1)} s\ncheckpoint: ${out}\n`,
      );
      if (stored) process.stdout.write(`stored as ${stored.id} in ${stored.location}\n`);
    } finally {
      progress.stop();
    }
  }
}
