import path from 'node:path';
import { Args } from '@oclif/core';
import { checkOutputPath, loadExperimentSpec, planComparison, resolveExperiment, type Platform } from '@l2o/core';
import { estimateSweep, estimateText, parseSeeds, planSweep, runLocalSweep, type SweepPlan } from '@l2o/sweep';
import { SweepProgress } from '../../sweep-progress.js';
import { ComparisonCommand } from '../../comparison-command.js';
import {
  cacheDirFlag,
  dataDirFlag,
  downloadFlag,
  dryRunFlag,
  retrainFlag,
  runsDirFlag,
  scaleFlag,
  seedFlag,
  seedsFlag,
  storeFlag,
  workersFlag,
} from '../../flags.js';
import { checkParallelism } from '../../numeric-flags.js';
import { planText } from '../../format.js';

export default class ExperimentRun extends ComparisonCommand {
  static override summary = 'Run an experiment spec (YAML): train what needs training, evaluate every optimizer, plot and summarise.';
  static override description =
    "Writes a run directory with the resolved config, per-optimizer metrics (CSV and JSON), checkpoints, convergence.svg/.png and summary.md. Checkpoints of identical config are reused. The paper's figures are experiments/paper/fig1.yaml … fig7.yaml.";
  static override examples = [
    '<%= config.bin %> experiment run experiments/paper/fig1.yaml --scale smoke',
    '<%= config.bin %> experiment run experiments/paper/fig1.yaml --scale smoke --seed 1',
    '<%= config.bin %> experiment run experiments/paper/fig1.yaml --scale smoke --seeds 0..2',
    'L2O_DATA_DIR=/path/to/datasets <%= config.bin %> experiment run experiments/paper/fig4.yaml --scale cpu',
  ];
  static override args = { spec: Args.string({ required: true, description: 'Path of the YAML spec.' }) };
  static override flags = {
    ...scaleFlag('cpu'),
    ...seedFlag({ default: undefined, description: "Overrides the spec's seed.", exclusive: ['seeds'] }),
    ...seedsFlag('One after another (as `l2o sweep --workers 1`).'),
    ...retrainFlag,
    ...workersFlag({
      description:
        "Threads of the test set's reference solve and the evaluations: the same numbers as one thread. Default: the spec's training.workers, else 1 (training keeps the spec's).",
      exclusive: ['seeds'],
    }),
    ...dataDirFlag,
    ...downloadFlag,
    ...runsDirFlag,
    ...dryRunFlag,
    ...storeFlag,
    ...cacheDirFlag,
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(ExperimentRun);
    const file = path.resolve(args.spec);
    const spec = loadExperimentSpec(file);
    const seeds = flags.seeds ? parseSeeds(flags.seeds) : undefined; // checked before the platform boots
    checkParallelism('--workers', flags.workers, 'worker threads');
    checkOutputPath(flags['runs-dir'], 'dir', '--runs-dir');
    const platform = await this.boot(flags, {
      runsDir: path.resolve(flags['runs-dir']),
      dataDir: flags['data-dir'],
      allowDownload: flags.download,
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
    });
    if (seeds) return this.overSeeds(platform, file, flags.scale, seeds, flags['dry-run']);
    const comparison = { ...resolveExperiment(spec, args.spec, flags.scale, platform.registry), retrain: flags.retrain };
    if (flags.seed !== undefined) comparison.seed = flags.seed;
    if (flags['dry-run']) {
      const plan = await planComparison(platform, comparison);
      // One comparison runs its jobs one after another: a sweep of one seed on one worker.
      const sweep = planSweep(platform, { spec: file, scale: flags.scale, seeds: [comparison.seed], grid: [] });
      const estimate = await this.estimate(platform, sweep, { retrain: flags.retrain, jobProcesses: false });
      if (this.jsonMode) return { plan, estimate };
      process.stdout.write(`${planText(plan)}\n${estimateText(estimate)}\n`);
      return;
    }
    return this.runAndPrint(platform, comparison, { workers: flags.workers });
  }

  /** The wall time of the plan's jobs here, run one at a time as this command runs them. */
  private estimate(platform: Platform, plan: SweepPlan, how: { retrain?: boolean; jobProcesses?: boolean } = {}) {
    return estimateSweep(platform, plan, { workers: 1, ...how, onCalibrate: (w) => this.note(`calibrating ${w}…`), signal: this.interrupt.signal });
  }

  /** `--seeds`: the experiment as a sweep over seeds on one job process, then its aggregate. */
  private async overSeeds(platform: Platform, spec: string, scale: string, seeds: number[], dryRun: boolean): Promise<unknown> {
    const request = { spec, scale, seeds, grid: [] };
    const plan = planSweep(platform, request);
    if (dryRun) {
      const estimate = await this.estimate(platform, plan);
      if (this.jsonMode) return { plan: { runs: plan.comparisons.map((c) => c.runId), jobs: plan.jobs.length }, estimate };
      process.stdout.write(
        `${plan.comparisons.length} runs (${plan.jobs.length} jobs):\n${plan.comparisons.map((c) => `  ${c.runId}`).join('\n')}\n${estimateText(estimate)}\n`,
      );
      return;
    }
    const progress = new SweepProgress(plan, !this.quietMode && !this.jsonMode);
    const result = await runLocalSweep(platform, request, { workers: 1, plan, onEvent: (e) => progress.handle(e), signal: this.interrupt.signal });
    if (result.outcome.failed.length) process.exitCode = 1;
    if (this.jsonMode)
      return { id: result.id, runs: result.outcome.runs, report: { dir: result.reportDir, groups: result.report.groups.map((g) => g.aggregate) } };
    process.stdout.write(`${result.report.markdown}\nruns: ${result.outcome.runs.map((r) => r.runDir).join(', ')}\nreport in ${result.reportDir}\n`);
  }
}
