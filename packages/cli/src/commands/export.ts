import path from 'node:path';
import { Flags } from '@oclif/core';
import { exportTestSet, LIMITS } from '@l2o/core';
import { L2oCommand, parsePluginOptions } from '../base-command.js';
import { cacheDirFlag, dataDirFlag, dryRunFlag, optionFlag, scaleFlag, seedFlag } from '../flags.js';
import { integerIn } from '../numeric-flags.js';

export default class Export extends L2oCommand {
  static override summary = 'Export a test set (A, b, λ, F*, the reference solution x*) as instances.json + NumPy .npy files.';
  static override description =
    'The same instances `l2o run` tests on (fixed by problem, dataset, scale and seed), with F* from FISTA run to the KKT tolerance. Load them in Python with numpy.load("A.npy"); the format is documented in docs/exchange-format.md.';
  static override examples = [
    '<%= config.bin %> export --problem lasso --dataset synthetic --scale toy --out lasso-toy',
    '<%= config.bin %> export --problem logistic-l1 --dataset ionosphere --out iono',
  ];
  static override flags = {
    problem: Flags.string({ char: 'p', required: true, summary: 'Problem id.' }),
    dataset: Flags.string({ char: 'd', default: 'synthetic', summary: 'Dataset id.' }),
    ...scaleFlag('quick', 'It fixes the test-set size.'),
    count: Flags.integer({ ...integerIn(LIMITS.instances), summary: 'Number of instances (overrides the scale).' }),
    ...seedFlag(),
    ...optionFlag,
    out: Flags.string({ required: true, summary: 'Folder to create (must not exist).' }),
    ...dataDirFlag,
    ...cacheDirFlag,
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Export);
    const options = parsePluginOptions(flags.option);
    const platform = await this.boot(flags, { dataDir: flags['data-dir'], ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}) });
    const result = await exportTestSet(
      platform,
      {
        problem: { id: flags.problem, options: options.get(flags.problem) },
        dataset: { id: flags.dataset, options: options.get(flags.dataset) },
        scale: flags.scale,
        seed: flags.seed,
        count: flags.count,
        dryRun: flags['dry-run'],
      },
      path.resolve(flags.out),
      undefined,
      this.interrupt.signal,
    );
    if (this.jsonMode) return flags['dry-run'] ? { plan: result } : result;
    if (flags['dry-run']) return void process.stdout.write(`dry run: would export ${result.count} instances to ${result.dir}\n`);
    process.stdout.write(`exported ${result.count} instances to ${result.dir}\n`);
  }
}
