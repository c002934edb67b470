import os from 'node:os';
import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { checkOutputPath, formatDuration, UsageError, writeFileAtomic } from '@l2o/core';
import {
  estimateSweep,
  estimateText,
  openRedis,
  parseGridAxis,
  parseSeeds,
  planSweep,
  runLocalSweep,
  submitSweep,
  sweepIdOf,
  type SweepRequest,
} from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { cacheDirFlag, dataDirFlag, downloadFlag, dryRunFlag, queueFlag, runsDirFlag, scaleFlag, seedsFlag, storeFlag, workersFlag } from '../../flags.js';
import { SweepProgress } from '../../sweep-progress.js';
import { checkParallelism } from '../../numeric-flags.js';

export default class Sweep extends L2oCommand {
  static override summary = 'Run an experiment over seeds and option grids as independent jobs: on local worker processes, or on BullMQ workers anywhere.';
  static override description = [
    'One training job per learned optimizer, seed and grid point, one evaluation job per optimizer, seed and grid point, one run per seed and grid point; jobs whose checkpoint or run exists are not run again, so a sweep can be run again after any failure.',
    'Without --queue the jobs run here in --workers processes and the runs are aggregated over seeds (mean ± 95% t-interval, plots with bands) into <reports-dir>/<sweep id>/.',
    'With --queue redis://host:port the jobs go to a BullMQ queue and the command prints the sweep id: start `l2o worker` on any machine, then `l2o sweep status|wait|report ID`.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> sweep experiments/paper/fig1.yaml --scale smoke --seeds 0..2',
    '<%= config.bin %> sweep experiments/paper/fig1.yaml --scale cpu --seeds 0..4 --grid gru-mha.attention.heads=1,2,4 --workers 2',
    '<%= config.bin %> sweep experiments/paper/fig1.yaml --scale smoke --seeds 0..2 --queue redis://127.0.0.1:6379 --store postgres://l2o@db/l2o',
  ];
  static override args = { spec: Args.string({ required: true, description: 'Path of the YAML experiment spec.' }) };
  static override flags = {
    ...scaleFlag('cpu'),
    ...seedsFlag("Default: the spec's seed."),
    grid: Flags.string({ summary: 'An option to sweep, <optimizer or problem>.<option>=<v1>,<v2>,… (repeatable: every combination).', multiple: true }),
    ...workersFlag({ description: 'Processes of a local sweep, one job each (default: the number of cores).' }),
    ...queueFlag,
    ...dataDirFlag,
    ...downloadFlag,
    ...runsDirFlag,
    'reports-dir': Flags.string({ default: 'sweeps', summary: "Where the sweep's report over seeds is written (a folder per sweep)." }),
    ...cacheDirFlag,
    ...dryRunFlag,
    ...storeFlag,
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Sweep);
    const request: SweepRequest = {
      spec: path.resolve(args.spec),
      scale: flags.scale,
      seeds: flags.seeds ? parseSeeds(flags.seeds) : [],
      grid: (flags.grid ?? []).map(parseGridAxis),
    };
    if (flags.queue && flags.workers)
      throw new UsageError('--workers is for a local sweep; with --queue every `l2o worker` sets its own.', 'Drop --workers, or --queue.');
    checkParallelism('--workers', flags.workers, 'job processes');
    checkOutputPath(flags['runs-dir'], 'dir', '--runs-dir');
    checkOutputPath(flags['reports-dir'], 'dir', '--reports-dir');
    const platform = await this.boot(flags, {
      runsDir: path.resolve(flags['runs-dir']),
      dataDir: flags['data-dir'],
      allowDownload: flags.download,
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
    });
    const plan = planSweep(platform, request);
    const counts = { train: 0, evaluate: 0, run: 0 };
    for (const j of plan.jobs) counts[j.kind]++;
    const what = `${plan.comparisons.length} runs: ${counts.train} trainings, ${counts.evaluate} evaluations`;
    const workers = flags.workers ?? os.availableParallelism();
    // A local sweep's cost on this machine (queued jobs run wherever workers are: not estimated).
    const estimate = async () =>
      flags.queue ? null : estimateSweep(platform, plan, { workers, onCalibrate: (w) => this.note(`calibrating ${w}…`), signal: this.interrupt.signal });
    if (flags['dry-run']) {
      if (flags.queue) (await openRedis(flags.queue)).disconnect();
      const estimated = await estimate();
      if (this.jsonMode)
        return {
          plan: { name: plan.name, comparisons: plan.comparisons.map((c) => ({ runId: c.runId, seed: c.seed, point: c.point })), jobs: counts },
          ...(estimated ? { estimate: estimated } : {}),
        };
      process.stdout.write(`sweep ${plan.name} at ${request.scale} scale: ${what}\n`);
      for (const c of plan.comparisons) process.stdout.write(`  ${c.runId}\n`);
      if (estimated) process.stdout.write(`${estimateText(estimated)}\n`);
      return;
    }
    if (flags.queue) {
      const submitted = await submitSweep(flags.queue, plan);
      if (this.jsonMode) return submitted;
      process.stdout.write(`sweep ${submitted.id}: ${what} (${submitted.jobs} jobs) queued on ${submitted.queue}\n`);
      process.stdout.write(
        `start workers with: l2o worker --queue ${flags.queue} --store <shared store>\nfollow it with: l2o sweep status ${submitted.id} (wait, report, cancel)\n`,
      );
      return;
    }
    this.note(`sweep ${plan.name} at ${request.scale} scale: ${what}, on ${workers} local worker process${workers === 1 ? '' : 'es'}`);
    // Kept beside the sweep's status from the start, so its end (or a watcher) can compare.
    const reportsDir = path.resolve(flags['reports-dir']);
    const estimated = (await estimate())!;
    writeFileAtomic(path.join(reportsDir, sweepIdOf(plan), 'estimate.json'), `${JSON.stringify({ ...estimated, at: new Date().toISOString() }, null, 1)}\n`);
    this.note(`estimated wall time: ${formatDuration(estimated.seconds)}`);
    const progress = new SweepProgress(plan, !this.quietMode && !this.jsonMode);
    const result = await runLocalSweep(platform, request, {
      workers,
      plan,
      onEvent: (e) => progress.handle(e),
      signal: this.interrupt.signal,
      reportsDir,
    });
    const { outcome, report } = result;
    if (outcome.failed.length) process.exitCode = 1;
    if (this.jsonMode) {
      return {
        id: result.id,
        seconds: outcome.seconds,
        estimatedSeconds: estimated.seconds,
        runs: outcome.runs,
        failed: outcome.failed.map((f) => ({ kind: f.job.kind, key: f.job.key, message: f.message })),
        report: { dir: result.reportDir, groups: report.groups.map((g) => ({ point: g.point, aggregate: g.aggregate })) },
      };
    }
    process.stdout.write(`${report.markdown}\n`);
    for (const f of outcome.failed) process.stdout.write(`failed: ${f.job.kind} ${f.job.key}: ${f.message}\n`);
    process.stdout.write(
      `sweep ${result.id}: ${outcome.runs.length} of ${plan.comparisons.length} runs in ${formatDuration(outcome.seconds)} (estimated ${formatDuration(estimated.seconds)}); report in ${result.reportDir}\n`,
    );
  }
}
