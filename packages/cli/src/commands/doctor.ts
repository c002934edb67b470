import { probeEngines, selectEngine, parseEngineRequest } from '@l2o/core';
import { L2oCommand } from '../base-command.js';

export default class Doctor extends L2oCommand {
  static override summary = 'Report the tensor engines this machine has and the one a run would choose.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --backend wasm --json'];
  static override flags = {};

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Doctor);
    const engines = await probeEngines({ resolveFrom: [process.cwd()] });
    const chosen = await selectEngine(parseEngineRequest(flags.backend), { resolveFrom: [process.cwd()] });
    const report = { node: process.version, platform: `${process.platform}-${process.arch}`, engines, requested: chosen.requested, chosen: chosen.chosen };
    if (this.jsonMode) return report;
    process.stdout.write(`node ${report.node} on ${report.platform}\n`);
    for (const e of engines) process.stdout.write(`${e.ok ? 'available' : 'missing  '}  ${e.engine.padEnd(15)} ${e.reason}\n`);
    process.stdout.write(`chosen for --backend ${chosen.requested}: ${chosen.chosen}\n`);
  }
}
