import path from 'node:path';
import { writeFileAtomic } from '@l2o/core';
import { aggregateSeeds, seedTableMarkdown, writeSeedReport, type LoadedRun, type SeedAggregate } from '@l2o/report';

/** The comparisons of a sweep, as its report needs them. */
export interface SweepRuns {
  name: string;
  comparisons: readonly { runId: string; seed: number; point: Record<string, unknown> }[];
}

export interface SweepReport {
  /** Per grid point (one without a grid): the aggregate over its seeds and the files written. */
  groups: { point: Record<string, unknown>; aggregate: SeedAggregate; dir: string }[];
  /** Runs of the sweep that are not (yet) there. */
  missing: string[];
  /** All groups' tables, for the terminal and report.md. */
  markdown: string;
}

const pointText = (point: Record<string, unknown>) =>
  Object.entries(point)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');

/**
 * Aggregates a sweep's runs over their seeds, per grid point: mean relative gap per iteration
 * with its 95% t-interval, iterations to thresholds with their range (tables), and plots with
 * the bands (SVG, PNG); written to `outDir` (one folder per grid point when there is a grid).
 */
export async function reportSweep(sweep: SweepRuns, load: (runId: string) => Promise<LoadedRun | null>, outDir: string): Promise<SweepReport> {
  const groups = new Map<string, { point: Record<string, unknown>; runs: LoadedRun[] }>();
  const missing: string[] = [];
  for (const c of sweep.comparisons) {
    const key = JSON.stringify(c.point);
    const group = groups.get(key) ?? { point: c.point, runs: [] };
    groups.set(key, group);
    const run = await load(c.runId);
    if (run) group.runs.push(run);
    else missing.push(c.runId);
  }
  const out: SweepReport['groups'] = [];
  const sections: string[] = [];
  const gridded = groups.size > 1 || [...groups.values()].some((g) => Object.keys(g.point).length > 0);
  for (const { point, runs } of groups.values()) {
    if (runs.length === 0) continue;
    const aggregate = aggregateSeeds(runs);
    const dir = gridded ? path.join(outDir, pointText(point).replace(/[^A-Za-z0-9.=_-]+/g, '_')) : outDir;
    await writeSeedReport(aggregate, dir);
    out.push({ point, aggregate, dir });
    sections.push(`${gridded ? `### ${pointText(point)}\n\n` : ''}${seedTableMarkdown(aggregate)}`);
  }
  const markdown = [...sections, ...(missing.length ? [`Not in the report (not written yet, or failed): ${missing.join(', ')}`, ''] : [])].join('\n');
  if (gridded) writeFileAtomic(path.join(outDir, 'report.md'), `# ${sweep.name}: sweep over ${[...groups.keys()].length} grid points\n\n${markdown}`);
  return { groups: out, missing, markdown };
}
