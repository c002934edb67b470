import { runComparison, type Platform } from '@l2o/core';
import { pretrainedLines } from '@l2o/report';
import { L2oCommand } from './base-command.js';
import { curvesTable } from './format.js';
import { ComparisonProgress } from './progress.js';

type ComparisonSpec = Parameters<typeof runComparison>[1];
type ComparisonExecution = NonNullable<Parameters<typeof runComparison>[4]>;

/** A command that runs one comparison (`l2o run`, `l2o experiment run`): both show and print it alike. */
export abstract class ComparisonCommand extends L2oCommand {
  /**
   * Runs the comparison with its progress on stderr, then prints its curves table and run
   * directory (and where it was stored), or returns them as the command's JSON.
   */
  protected async runAndPrint(platform: Platform, comparison: ComparisonSpec, execution: ComparisonExecution = {}): Promise<unknown> {
    this.note(`engine: ${platform.engine.chosen}`);
    const progress = new ComparisonProgress(!this.quietMode && !this.jsonMode);
    const result = await runComparison(platform, comparison, (e) => progress.handle(e), this.interrupt.signal, execution).finally(() => progress.stop());
    if (this.jsonMode) return { runDir: result.runDir, stored: result.stored ?? null, summary: result.summary, curves: result.curves };
    if (!this.quietMode) process.stdout.write(`${[curvesTable(result.curves), ...pretrainedLines(result.summary)].join('\n')}\n\n`);
    process.stdout.write(`run directory: ${result.runDir}\n`);
    if (result.stored) process.stdout.write(`stored as ${result.stored.id} in ${result.stored.location}\n`);
    return undefined;
  }
}
