import { Flags } from '@oclif/core';
import { benchModel, LIMITS, MAX_ARRAY_BYTES, planBench, UsageError } from '@l2o/core';
import { L2oCommand, parsePluginOptions } from '../base-command.js';
import { dryRunFlag, optionFlag, seedFlag, workersFlag } from '../flags.js';
import { checkParallelism, integerIn } from '../numeric-flags.js';

/** A size of A: at most the float32 values of one array. */
const ELEMENTS = { min: 1, max: MAX_ARRAY_BYTES / 4, why: 'a float32 array holds at most 2 GiB' };

export default class Bench extends L2oCommand {
  static override summary = 'Time one meta-training segment and one evaluation iteration of a learned optimizer.';
  static override description =
    'The workload of the PyTorch yardstick torch_reference.py (LASSO m×n, batch, unroll; forward, backward and Adam step), with the same JSON fields, plus peak RSS (which includes the WASM heap). `npm run bench:compare` runs both side by side.';
  static override examples = [
    '<%= config.bin %> bench --model lstm',
    '<%= config.bin %> bench --model gru-mha -o gru-mha.attention.axis=history --json',
    '<%= config.bin %> bench --model gru-mha --batch 16 --micro-batch 4',
    '<%= config.bin %> bench --model lstm --micro-batch 8 --workers 2',
  ];
  static override flags = {
    model: Flags.string({ char: 'm', required: true, summary: 'Learned optimizer id.' }),
    problem: Flags.string({ char: 'p', default: 'lasso', summary: 'Problem timed (its default dataset draws the batch; m, n, s set its size).' }),
    m: Flags.integer({ ...integerIn(ELEMENTS), default: 250, summary: 'Rows of A.' }),
    n: Flags.integer({ ...integerIn(ELEMENTS), default: 500, summary: 'Columns of A (coordinates).' }),
    s: Flags.integer({ ...integerIn(ELEMENTS), default: 50, summary: 'Non-zeros of the generating signal.' }),
    batch: Flags.integer({ ...integerIn(LIMITS.instances), default: 64, summary: 'Instances per batch.' }),
    unroll: Flags.integer({ ...integerIn(LIMITS.iterations), default: 20, summary: 'Iterations per segment.' }),
    repeats: Flags.integer({ ...integerIn({ min: 1 }), default: 5, summary: 'Timed repeats (after one warm-up).' }),
    'micro-batch': Flags.integer({
      ...integerIn({ ...LIMITS.instances, min: 0 }),
      default: 0,
      summary: "Instances per forward/backward pass (0: the largest that fits the engine's memory, from a probe of one and two instances).",
    }),
    ...optionFlag,
    ...seedFlag(),
    ...workersFlag({ default: 1, description: 'Threads sharing the micro-batches of the training segment (as train --workers).' }),
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Bench);
    const options = parsePluginOptions(flags.option);
    // The batch's matrices, batch × m × n float32 values, are one array on the engine.
    if (flags.batch * flags.m * flags.n * 4 > MAX_ARRAY_BYTES) {
      throw new UsageError(
        `--batch ${flags.batch} of ${flags.m}×${flags.n} matrices is ${flags.batch * flags.m * flags.n} float32 values, over the 2 GiB of one array.`,
        `Use at most --batch ${Math.max(1, Math.floor(MAX_ARRAY_BYTES / (4 * flags.m * flags.n)))} at this size, or smaller --m and --n.`,
      );
    }
    checkParallelism('--workers', flags.workers, 'worker threads');
    const platform = await this.boot(flags);
    const spec = {
      model: { id: flags.model, options: options.get(flags.model) },
      problem: { id: flags.problem, options: options.get(flags.problem) },
      m: flags.m,
      n: flags.n,
      s: flags.s,
      batch: flags.batch,
      unroll: flags.unroll,
      repeats: flags.repeats,
      microBatch: flags['micro-batch'],
      seed: flags.seed,
      workers: flags.workers,
      signal: this.interrupt.signal,
    };
    if (flags['dry-run']) {
      const plan = planBench(platform, spec);
      if (this.jsonMode) return { plan };
      process.stdout.write(
        `dry run: would time ${plan.model} (${plan.parameters} parameters) on LASSO ${spec.m}×${spec.n}, batch ${spec.batch} in micro-batches of ${plan.microBatch === 'auto' ? 'the largest size that fits (probed first)' : plan.microBatch}, ${plan.workers} worker(s)\n`,
      );
      return;
    }
    const result = await benchModel(platform, spec);
    if (this.jsonMode) return result;
    process.stdout.write(
      `${result.model}${result.axis ? ` (${result.axis})` : ''} on ${result.engine}, LASSO ${result.m}×${result.n}, batch ${result.batch}, unroll ${result.unroll}: ` +
        `train segment ${result.train_segment_ms} ms${result.workers > 1 ? ` (${result.workers} workers)` : ''}, eval iteration ${result.eval_iter_ms} ms, peak RSS ${result.peak_rss_mb} MB\n` +
        `micro-batch ${result.micro_batch}${result.micro_batch_auto ? ` (chosen: ${result.micro_batch_auto})` : ''}\n`,
    );
  }
}
