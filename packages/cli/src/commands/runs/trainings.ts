import { Flags } from '@oclif/core';
import { L2oCommand } from '../../base-command.js';
import { storeFlag } from '../../flags.js';
import { withStore } from '../../store-flags.js';

export default class RunsTrainings extends L2oCommand {
  static override summary = 'List the stored trainings of l2o train, newest first, with their best validation loss.';
  static override examples = ['<%= config.bin %> runs trainings', '<%= config.bin %> runs trainings --model gru-mha --json'];
  static override flags = {
    ...storeFlag,
    model: Flags.string({ summary: 'Trainings of this model id.' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(RunsTrainings);
    const trainings = await withStore(flags.store, (store) => store.listTrainings({ model: flags.model }));
    if (this.jsonMode) return trainings;
    if (trainings.length === 0) return void process.stdout.write('no trainings\n');
    for (const t of trainings) {
      const best = t.bestLoss === null ? 'no validation' : `best validation loss ${t.bestLoss.toPrecision(6)} at step ${t.bestStep}`;
      process.stdout.write(`${t.id}  ${t.problem}/${t.dataset} seed ${t.seed}, ${t.globalSteps} steps  ${best}  ${t.seconds.toFixed(1)} s\n`);
    }
  }
}
