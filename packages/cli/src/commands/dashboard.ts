import { existsSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { startDashboard } from '@l2o/dashboard';
import { defaultStoreLocation, openRunStore } from '@l2o/store';
import { openRedis, redactQueue } from '@l2o/sweep';
import { CLI_ROOT, L2oCommand } from '../base-command.js';
import { dryRunFlag, queueFlag, storeFlag } from '../flags.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * docs/results of the checkout this CLI runs from (it is <checkout>/packages/cli), where `l2o
 * results` keeps the paper's figures; none for an installed CLI or a checkout without it.
 */
function checkoutResults(): string | undefined {
  if (path.basename(path.dirname(CLI_ROOT)) !== 'packages') return undefined;
  const dir = path.resolve(CLI_ROOT, '../../docs/results');
  return existsSync(dir) ? dir : undefined;
}

export default class DashboardCommand extends L2oCommand {
  static override summary =
    'Serve a read-only web dashboard of the run store: runs, plots, figures over seeds, sweeps, and a learned optimizer running live in the browser.';
  static override examples = [
    '<%= config.bin %> dashboard',
    '<%= config.bin %> dashboard --port 8080 --store postgres://l2o@db/l2o',
    '<%= config.bin %> dashboard --queue redis://127.0.0.1:6379',
  ];
  static override flags = {
    ...storeFlag,
    ...queueFlag,
    port: Flags.integer({ default: 4545, min: 0, max: 65535, summary: 'Port to listen on (0: a free one).' }),
    host: Flags.string({ default: '127.0.0.1', summary: 'Address to listen on; anything but 127.0.0.1 exposes the runs to your network.' }),
    sweeps: Flags.string({
      default: 'sweeps',
      summary: "Reports folder of local sweeps (`l2o sweep`'s --reports-dir), whose live status the Sweeps page follows.",
    }),
    results: Flags.string({
      summary:
        'Folder of `l2o results`\' pages: the Figures page shows each figN.md\'s "## Verdict", and the figures kept in its data/ whose runs the store lacks (default: docs/results of the l2o checkout this CLI runs from, where it exists).',
    }),
    create: Flags.boolean({
      summary: 'Make an empty run store where --store names a folder that does not exist (otherwise that is refused as a likely typo).',
    }),
    ...dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DashboardCommand);
    const store = flags.store ?? defaultStoreLocation();
    if (store === 'off')
      throw new UsageError('The dashboard shows the run store, which is off (--store off or L2O_STORE=off).', 'Give --store <folder or postgres://…>.');
    // A folder given by --store (or L2O_STORE) that is not there is most likely a typo: serving an
    // empty store made there would hide it. The default folder is made as every command makes it.
    const missing = flags.store !== undefined && !/^postgres(ql)?:\/\//.test(store) && !existsSync(store);
    if (missing && !flags.create) {
      throw new UsageError(`No run store at ${path.resolve(store)}.`, 'Check the path, or pass --create to make an empty one.');
    }
    if (flags.results !== undefined && !existsSync(flags.results)) {
      throw new UsageError(
        `No results folder at ${path.resolve(flags.results)}.`,
        'Give --results the folder `l2o results` wrote (docs/results of a checkout).',
      );
    }
    const results = flags.results ?? checkoutResults();
    // Checked before listening, the queue first so that nothing is made when it cannot be reached.
    if (flags.queue) (await openRedis(flags.queue)).disconnect();
    if (missing && flags['dry-run']) process.stdout.write(`would create an empty run store at ${path.resolve(store)}\n`);
    else await (await openRunStore(store, { waitForLockMs: 30_000 })).close();
    if (!LOOPBACK.has(flags.host))
      process.stderr.write(`Warning: the dashboard listens on ${flags.host}: anyone who can reach this machine can read your runs\n`);
    if (flags['dry-run']) {
      // The port too: listen once and let go.
      await (await startDashboard({ store, host: flags.host, port: flags.port })).close();
      process.stdout.write(
        `would serve the dashboard on http://${flags.host}:${flags.port}/ over the store ${store}${flags.queue ? ` and the queue ${redactQueue(flags.queue)}` : ''}\n`,
      );
      return;
    }
    const dashboard = await startDashboard({
      store,
      host: flags.host,
      port: flags.port,
      ...(flags.queue ? { queue: flags.queue } : {}),
      sweepsDir: path.resolve(flags.sweeps),
      ...(results ? { resultsDir: path.resolve(results) } : {}),
    });
    process.stdout.write(`dashboard on ${dashboard.url} (store ${store}); Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => this.interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
    await dashboard.close();
  }
}
