import path from 'node:path';
import { Flags } from '@oclif/core';
import { LIMITS, solveInstances } from '@l2o/core';
import { L2oCommand, parsePluginOptions } from '../base-command.js';
import { dryRunFlag, optionFlag } from '../flags.js';
import { integerIn } from '../numeric-flags.js';

export default class Solve extends L2oCommand {
  static override summary = 'Run an optimizer on instances in the exchange format and export its solutions.';
  static override description =
    'Reads a folder written by `l2o export` (or by another tool in the same format), runs K iterations, and writes the instances with x_star.npy (the point reached) and result.json (F per instance, and the relative gap where F* is known).';
  static override examples = [
    '<%= config.bin %> solve --input lasso-toy --optimizer fista --iterations 1000 --out lasso-toy-fista',
    '<%= config.bin %> solve --input lasso-toy --optimizer gru-mha --checkpoint gru-mha.json --iterations 100 --out lasso-toy-l2o',
  ];
  static override flags = {
    input: Flags.string({ char: 'i', required: true, summary: 'Folder with instances.json and .npy files.' }),
    optimizer: Flags.string({ required: true, summary: 'Optimizer or model id.' }),
    checkpoint: Flags.string({ summary: 'Checkpoint of a learned optimizer.' }),
    iterations: Flags.integer({ ...integerIn(LIMITS.iterations), char: 'k', default: 1000, summary: 'Iterations.' }),
    'batch-size': Flags.integer({ ...integerIn(LIMITS.instances), default: 64, summary: 'Instances solved at once.' }),
    ...optionFlag,
    out: Flags.string({ required: true, summary: 'Folder to create (must not exist).' }),
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Solve);
    const options = parsePluginOptions(flags.option);
    const platform = await this.boot(flags);
    const out = path.resolve(flags.out);
    const result = await solveInstances(
      platform,
      {
        input: path.resolve(flags.input),
        optimizer: { id: flags.optimizer, options: options.get(flags.optimizer) },
        checkpoint: flags.checkpoint,
        iterations: flags.iterations,
        batchSize: flags['batch-size'],
        problemOptions: [...options.entries()].find(([id]) => id !== flags.optimizer)?.[1],
        signal: this.interrupt.signal,
        dryRun: flags['dry-run'],
      },
      out,
    );
    if (flags['dry-run']) {
      if (this.jsonMode) return { plan: { input: path.resolve(flags.input), optimizer: flags.optimizer, iterations: flags.iterations, out } };
      return void process.stdout.write(
        `dry run: input, optimizer and output checked; would run ${flags.optimizer} for ${flags.iterations} iterations into ${out}\n`,
      );
    }
    if (this.jsonMode) return { out, ...result };
    const mean = result.objective.reduce((a, b) => a + b, 0) / result.objective.length;
    process.stdout.write(`solved ${result.objective.length} instances, mean F ${mean.toPrecision(6)}; written to ${out}\n`);
  }
}
