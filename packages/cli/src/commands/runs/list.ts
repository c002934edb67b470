import { Flags } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { formatGap } from '@l2o/report';
import type { RunCondition } from '@l2o/store';
import { L2oCommand } from '../../base-command.js';
import { storeFlag, withStore } from '../../store-flags.js';

export default class RunsList extends L2oCommand {
  static override summary = 'List stored runs, newest first, with the final mean relative gap of each optimizer.';
  static override examples = [
    '<%= config.bin %> runs list',
    '<%= config.bin %> runs list --model gru-mha --dataset bsds500 --json',
    '<%= config.bin %> runs list --scale toy --since 2026-11-01',
    '<%= config.bin %> runs list --where seed=0 --where training.globalSteps=2',
  ];
  static override flags = {
    ...storeFlag,
    model: Flags.string({ summary: 'Runs with this optimizer or model id.' }),
    problem: Flags.string({ summary: 'Runs of this problem.' }),
    dataset: Flags.string({ summary: 'Runs tested on this dataset.' }),
    scale: Flags.string({ summary: 'Runs at this scale.' }),
    since: Flags.string({ summary: 'Runs created on or after this date (YYYY-MM-DD or an ISO time).' }),
    where: Flags.string({
      summary: "Runs whose config.json has VALUE at the dotted path KEY, compared as text (repeatable: all must hold), e.g. seed=1, training.globalSteps=400.",
      description:
        "KEY is looked up at config.json's top level (training, test, scale, reference: the resolved settings) and under its spec (seed, problem.options.lambda, …); either matching is enough. Array items are numbered from 0 (spec.optimizers.0.id=gru-mha). Values are compared as JSON prints them: 400, 0.1, true, lasso.",
      helpValue: 'KEY=VALUE',
      multiple: true,
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(RunsList);
    const since = flags.since === undefined ? undefined : new Date(flags.since);
    if (since && Number.isNaN(since.getTime())) throw new UsageError(`--since '${flags.since}' is not a date.`, 'Give YYYY-MM-DD or an ISO time.');
    const where = parseWhere(flags.where ?? []);
    const runs = await withStore(flags.store, (store) =>
      store.listRuns({ model: flags.model, problem: flags.problem, dataset: flags.dataset, scale: flags.scale, since, where }),
    );
    if (this.jsonMode) return runs;
    if (runs.length === 0) return void process.stdout.write('no runs\n');
    for (const r of runs) {
      const gaps = r.optimizers.map((o) => `${o.label} ${o.divergedAt !== null ? `diverged@${o.divergedAt}` : o.finalGap === null ? '—' : formatGap(o.finalGap)}`).join(', ');
      process.stdout.write(`${r.id}  ${r.problem}/${r.testDataset} ${r.scale} seed ${r.seed}  ${gaps}\n`);
    }
  }
}

/** `--where key=value` entries as conditions: the key split at dots into a path, the value as text. */
function parseWhere(entries: readonly string[]): RunCondition[] {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const path = eq > 0 ? entry.slice(0, eq).split('.') : [];
    if (path.length === 0 || path.some((part) => part === '')) {
      throw new UsageError(`--where '${entry}' is not of the form <key>=<value>.`, 'The key is a dotted path into the run\'s config.json, e.g. --where training.globalSteps=400.');
    }
    return { path, value: entry.slice(eq + 1) };
  });
}
