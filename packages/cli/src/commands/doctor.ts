import { Flags } from '@oclif/core';
import { checkEngines, L2oError, UsageError, parseEngineRequest, probeEngines, selectEngine, type EngineCheck } from '@l2o/core';
import { L2oCommand } from '../base-command.js';

export default class Doctor extends L2oCommand {
  static override summary = 'Report the tensor engines this machine has and the one a run would choose; --check: does it compute what WASM computes?';
  static override description =
    'With --check, a smoke meta-training segment (loss and gradients) and an evaluation (F after 20 iterations) run on the chosen engine and on WASM (on the pure-JS cpu engine when WASM is the chosen one) from the same instances and weights, and must agree to float32 tolerance (1e-4 relative); exit 1 if they do not.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --backend wasm --json',
    '<%= config.bin %> doctor --check',
    '<%= config.bin %> doctor --check --model gru-mha',
  ];
  static override flags = {
    check: Flags.boolean({ summary: 'Check the chosen engine against WASM on a smoke training segment and evaluation.' }),
    model: Flags.string({ default: 'gru', summary: 'The learned optimizer --check runs.' }),
    tolerance: Flags.string({ default: '1e-4', summary: 'Largest relative difference --check accepts (loss, gradients, F).' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Doctor);
    const engines = await probeEngines({ resolveFrom: [process.cwd()] });
    const chosen = await selectEngine(parseEngineRequest(flags.backend), { resolveFrom: [process.cwd()] });
    const report = { node: process.version, platform: `${process.platform}-${process.arch}`, engines, requested: chosen.requested, chosen: chosen.chosen };
    let check: EngineCheck | undefined;
    const tolerance = Number(flags.tolerance);
    if (!(tolerance >= 0)) throw new UsageError(`--tolerance must be a number ≥ 0, got '${flags.tolerance}'.`);
    if (flags.check) {
      const platform = await this.boot(flags);
      check = await checkEngines(platform, {
        engines: [chosen.chosen, chosen.chosen === 'wasm' ? 'cpu' : 'wasm'],
        model: flags.model,
        problem: 'lasso',
        datasetOptions: { preset: 'toy' },
        resolveFrom: [process.cwd()],
        tolerance,
      });
      if (!check.agree) process.exitCode = 1;
    }
    if (this.jsonMode) return check ? { ...report, check } : report;
    process.stdout.write(`node ${report.node} on ${report.platform}\n`);
    for (const e of engines) process.stdout.write(`${e.ok ? 'available' : 'missing  '}  ${e.engine.padEnd(15)} ${e.reason}\n`);
    process.stdout.write(`chosen for --backend ${chosen.requested}: ${chosen.chosen}\n`);
    if (check) {
      const [a, b] = check.runs;
      const e = (x: number) => x.toExponential(1);
      process.stdout.write(
        [
          `check: ${check.model} on LASSO 20×40, 8 instances, a 10-step training segment and 20 evaluation iterations`,
          `  ${a.engine.padEnd(15)} loss ${a.loss.toPrecision(8)}  F ${a.finalF.toPrecision(8)}  ${a.seconds.toFixed(2)} s`,
          `  ${b.engine.padEnd(15)} loss ${b.loss.toPrecision(8)}  F ${b.finalF.toPrecision(8)}  ${b.seconds.toFixed(2)} s`,
          `  relative differences: loss ${e(check.lossError)}, gradients ${e(check.gradientError)}, F ${e(check.finalFError)} (tolerance ${e(check.tolerance)})`,
          '',
        ].join('\n'),
      );
      if (!check.agree)
        throw new L2oError(
          `${a.engine} and ${b.engine} disagree beyond float32 tolerance.`,
          `Report it with this output; meanwhile run with --backend ${b.engine}.`,
        );
      process.stdout.write(`${a.engine} agrees with ${b.engine}\n`);
    }
  }
}
