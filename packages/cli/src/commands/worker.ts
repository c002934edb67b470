import os from 'node:os';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { defaultStoreLocation } from '@l2o/store';
import { checkWorkerConnections, connectionEventText, redactQueue, startWorker } from '@l2o/sweep';
import { L2oCommand } from '../base-command.js';
import { cacheDirFlag, dataDirFlag, downloadFlag, dryRunFlag, queueFlag, runsDirFlag, storeFlag } from '../flags.js';
import { requireQueue } from '../queue-flags.js';
import { jobText } from '../sweep-progress.js';

export default class WorkerCommand extends L2oCommand {
  static override summary = 'Take jobs of submitted sweeps from a BullMQ queue and run them, until stopped (Ctrl-C).';
  static override description =
    'Trainings and evaluations run in child processes (--concurrency at once); checkpoints, resume checkpoints, evaluations and runs go to the shared --store, so a job of a worker that died is resumed by another from its last validation. Give every worker the same --queue and --store.';
  static override examples = [
    '<%= config.bin %> worker --queue redis://127.0.0.1:6379 --store postgres://l2o@db/l2o',
    '<%= config.bin %> worker --queue redis://127.0.0.1:6379 --store postgres://l2o@db/l2o --concurrency 1',
  ];
  static override flags = {
    ...queueFlag,
    ...storeFlag,
    concurrency: Flags.integer({ min: 1, summary: 'Jobs at once (default: the number of cores).' }),
    'stalled-after': Flags.integer({ min: 1, default: 30, summary: 'Seconds after which a job whose worker died goes to another worker.' }),
    grace: Flags.integer({
      min: 1,
      default: 30,
      summary: 'Seconds a stopping worker (Ctrl-C, SIGTERM) gives its running jobs to save their state; then it exits, whatever they or Redis do.',
    }),
    ...dataDirFlag,
    ...downloadFlag,
    ...runsDirFlag,
    ...cacheDirFlag,
    ...dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand);
    const queue = requireQueue(flags.queue);
    const store = flags.store ?? defaultStoreLocation();
    const platform = await this.boot(
      { ...flags, store },
      {
        runsDir: path.resolve(flags['runs-dir']),
        dataDir: flags['data-dir'],
        allowDownload: flags.download,
        ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
      },
    );
    const concurrency = flags.concurrency ?? os.availableParallelism();
    if (flags['dry-run']) {
      await checkWorkerConnections(queue, store);
      process.stdout.write(`would take ${concurrency} job${concurrency === 1 ? '' : 's'} at once from ${redactQueue(queue)}, results into ${store}\n`);
      return;
    }
    const worker = await startWorker(platform, queue, store, {
      concurrency,
      stalledAfterSeconds: flags['stalled-after'],
      onEvent: (e) => {
        const what = jobText({ ...e.job, seed: e.job.comparison.seed, grid: e.job.comparison.grid });
        if (e.kind === 'start') this.note(`start ${what}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        else if (e.kind === 'done')
          this.note(
            `done  ${what} ${e.skipped ? '(already in the store)' : `${e.seconds.toFixed(1)} s`}${e.resumedAfter ? `, resumed after step ${e.resumedAfter}` : ''}`,
          );
        else this.note(`fail  ${what}: ${e.message}`);
      },
      onConnection: (e) => this.note(connectionEventText(e)),
    });
    this.note(
      `worker ${worker.name}: ${concurrency} job${concurrency === 1 ? '' : 's'} at once from ${queue.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}; Ctrl-C to stop`,
    );
    await new Promise<void>((resolve) => this.interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
    const grace = flags.grace * 1000;
    const code = this.interrupt.signal.reason === 'SIGTERM' ? 143 : 130;
    this.note(`stopping: running jobs save their state and go back to the queue (${flags.grace} s at most)`);
    // The hard deadline: nothing (a Redis that does not answer, a reconnection timer) keeps the worker up past its grace period.
    setTimeout(() => process.exit(code), grace).unref();
    if (!(await worker.close(Math.max(500, grace - 1000)))) {
      this.note(`stopped at the end of the ${flags.grace} s grace period: unfinished jobs go to another worker after --stalled-after`);
      process.exit(code);
    }
  }
}
