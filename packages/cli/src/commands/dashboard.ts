import { existsSync } from 'node:fs';
import path from 'node:path';
import { Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { startDashboard } from '@l2o/dashboard';
import { defaultStoreLocation, openRunStore } from '@l2o/store';
import { openRedis, redactQueue } from '@l2o/sweep';
import { dryRunFlag, L2oCommand } from '../base-command.js';
import { queueFlag } from '../queue-flags.js';
import { storeFlag } from '../store-flags.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

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
    results: Flags.string({ summary: 'Folder of figN.md files whose "## Verdict" the Figures page shows (default: ./docs/results where it exists).' }),
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DashboardCommand);
    const store = flags.store ?? defaultStoreLocation();
    if (store === 'off')
      throw new UsageError('The dashboard shows the run store, which is off (--store off or L2O_STORE=off).', 'Give --store <folder or postgres://…>.');
    // Checked before listening: a store that cannot be opened or a queue that cannot be reached.
    await (await openRunStore(store, { waitForLockMs: 30_000 })).close();
    if (flags.queue) (await openRedis(flags.queue)).disconnect();
    const results = flags.results ?? (existsSync('docs/results') ? 'docs/results' : undefined);
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
