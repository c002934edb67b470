import os from 'node:os';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { checkOutputPath, formatDuration, UsageError } from '@l2o/core';
import { campaignStatus, loadCampaign, planCampaign, runCampaign } from '@l2o/sweep';
import { L2oCommand } from '../../base-command.js';
import { campaignArgs, campaignFlags, campaignSummary, stateDirOf } from '../../campaign-flags.js';
import { checkParallelism } from '../../numeric-flags.js';
import { dryRunFlag, storeFlag, workersFlag } from '../../flags.js';
import { SweepProgress } from '../../sweep-progress.js';

export default class CampaignRun extends L2oCommand {
  static override summary =
    'Run what remains of a campaign (its sweeps in order, overlapping), keeping its state in a folder to commit: a new machine continues from it.';
  static override description = [
    "A campaign file lists sweeps, `entries: [{ spec, scale, seeds, grid? }]` (spec relative to the file), run in order by the local executor: a free worker takes a job of the earliest entry with jobs waiting (so a worker the earlier entries leave idle takes a later entry's), within an entry the job expected to take longest (from the times the state folder records).",
    "Its state folder (campaigns/<name>/ by default) holds plan.json (each entry's jobs, done or remaining, with the commit, engine and time that made them, a training's per session), checkpoints/<training key>.json (finished trainings), checkpoints/<training key>.resume.json (an unfinished training's latest state), evaluations/<key>.json (a finished evaluation whose run is not written yet) and runs/<figure>.json (finished runs, as `l2o results --kept <state>/runs` reads them); it is updated after every finished job, so `git add campaigns/<name> && git commit` keeps the progress at any time.",
    'On another machine (empty cache and store), the same command copies the kept trainings into the cache first: nothing finished is trained, evaluated or run again, and an unfinished training resumes from the step where it stopped (from its last validation if its process was killed).',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> campaign run experiments/campaigns/paper.yaml --workers 2 --stop-after 240',
    '<%= config.bin %> campaign status experiments/campaigns/paper.yaml',
  ];
  static override args = campaignArgs;
  static override flags = {
    ...campaignFlags,
    ...workersFlag({ description: 'Job processes of the sweeps (default: the number of cores).' }),
    'stop-after': Flags.string({
      summary:
        'Minutes after which no job starts and running ones stop (a training keeps its state at the step it stopped at, an evaluation its finished batches); exit 0. For a session with a deadline.',
    }),
    'retry-failed': Flags.boolean({
      summary:
        'Run again the jobs plan.json records as failed (a training that diverged fails the same way again; by default the runs that need them are left out).',
    }),
    ...storeFlag,
    ...dryRunFlag,
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(CampaignRun);
    const stopAfter = flags['stop-after'] === undefined ? undefined : Number(flags['stop-after']);
    if (stopAfter !== undefined && !(Number.isFinite(stopAfter) && stopAfter > 0))
      throw new UsageError(`--stop-after ${flags['stop-after']} is not a positive number of minutes.`, 'Example: --stop-after 240 (four hours).');
    checkParallelism('--workers', flags.workers, 'job processes');
    checkOutputPath(flags['runs-dir'], 'dir', '--runs-dir');
    const campaign = loadCampaign(path.resolve(args.campaign));
    const stateDir = stateDirOf(campaign, flags.state);
    checkOutputPath(stateDir, 'dir', '--state');
    const platform = await this.boot(flags, {
      runsDir: path.resolve(flags['runs-dir']),
      dataDir: flags['data-dir'],
      allowDownload: flags.download,
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
    });
    const planned = planCampaign(platform, campaign);
    if (flags['dry-run']) {
      // Every spec, id and option checked; what a run would do is what status says remains.
      const status = campaignStatus(campaign, planned, stateDir);
      if (this.jsonMode) return { state: stateDir, plan: status, dryRun: true };
      process.stdout.write(`${campaignSummary(status)}\ndry run: nothing started (l2o campaign status estimates the time left)\n`);
      return undefined;
    }
    const workers = flags.workers ?? os.availableParallelism();
    let progress: SweepProgress | undefined;
    const outcome = await runCampaign(platform, campaign, planned, {
      stateDir,
      workers,
      signal: this.interrupt.signal,
      retryFailed: flags['retry-failed'],
      ...(stopAfter !== undefined ? { stopAfterMs: stopAfter * 60_000 } : {}),
      onEvent: (e) => {
        if (e.kind === 'restored' && (e.checkpoints || e.resumes))
          this.note(
            `from ${path.relative(process.cwd(), stateDir) || '.'}: ${e.checkpoints} finished training${e.checkpoints === 1 ? '' : 's'} and ${e.resumes} resume state${e.resumes === 1 ? '' : 's'} put into the cache`,
          );
        if (e.kind === 'restored' && e.evaluations)
          this.note(
            `from ${path.relative(process.cwd(), stateDir) || '.'}: ${e.evaluations} finished evaluation${e.evaluations === 1 ? '' : 's'} kept (not evaluated again)`,
          );
        if (e.kind === 'entry') {
          const { entry, plan } = e;
          this.note(
            `[entry ${e.index + 1}/${planned.length}] ${entry.plan.name} at ${entry.scale} scale: ${e.doneRuns} of ${entry.plan.comparisons.length} runs done${plan.comparisons.length ? `, ${plan.jobs.length} jobs to run` : ''}`,
          );
          if (e.leftOut.length)
            this.note(
              `[entry ${e.index + 1}/${planned.length}] left out (a job they need failed before; --retry-failed runs it again): ${e.leftOut.join(', ')}`,
            );
        }
        if (e.kind === 'jobs') progress = new SweepProgress(e.plan, !this.quietMode && !this.jsonMode, (job) => planned[e.entryOf(job)]!.plan.name);
        if (e.kind === 'sweep') progress?.handle(e.event);
      },
    });
    if (outcome.failed.length) process.exitCode = 1;
    if (this.jsonMode)
      return {
        state: stateDir,
        stopped: outcome.stopped ?? null,
        seconds: outcome.seconds,
        plan: outcome.plan,
        failed: outcome.failed.map((f) => ({ kind: f.job.kind, key: f.job.key, message: f.message })),
      };
    process.stdout.write(`${campaignSummary(outcome.plan)}\n`);
    for (const f of outcome.failed) process.stdout.write(`failed: ${f.job.kind} ${f.job.key}: ${f.message}\n`);
    const rel = path.relative(process.cwd(), stateDir) || '.';
    process.stdout.write(
      `${outcome.stopped ? `stopped after --stop-after ${flags['stop-after']} min` : 'campaign run'} in ${formatDuration(outcome.seconds)}; state in ${rel} (keep it: git add ${rel} && git commit)\n`,
    );
  }
}
