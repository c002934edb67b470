import { Args } from '@oclif/core';
import { UsageError } from '@l2o/core';
import { jobText } from './sweep-progress.js';
import type { SweepStatus } from '@l2o/sweep';

/** `l2o sweep status|wait|cancel|report ID`: the sweep id and its queue (required). */
export const sweepIdArgs = { id: Args.string({ required: true, description: 'The sweep id `l2o sweep … --queue` printed.' }) };

export function requireQueue(queue: string | undefined): string {
  if (!queue) throw new UsageError('A submitted sweep lives on a queue: give --queue redis://host:port (or set L2O_QUEUE).');
  return queue;
}

const duration = (s: number) => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

/** The status of a sweep for people: counts, ETA, each active job's progress, each failure's reason. */
export function statusText(s: SweepStatus): string {
  const c = s.counts;
  const lines = [
    `sweep ${s.id}${s.cancelled ? ' (cancelled)' : ''}: ${c.completed} completed, ${c.active} active, ${c.waiting} waiting, ${c.failed} failed${c.cancelled ? `, ${c.cancelled} cancelled` : ''}` +
      (s.finished ? '' : s.etaSeconds === null ? '; ETA after the first finished job' : `; ETA ${duration(s.etaSeconds)}`),
  ];
  for (const j of s.jobs.filter((x) => x.state === 'active')) {
    const p = j.progress;
    const where = p?.total ? `: ${p.phase} ${p.done}/${p.total}` : '';
    lines.push(`  active  ${jobText({ kind: j.kind, key: j.key, label: j.label ?? '', seed: j.seed })}${where}${p?.worker ? ` on ${p.worker}` : ''}`);
  }
  for (const j of s.jobs.filter((x) => x.state === 'failed'))
    lines.push(`  failed  ${jobText({ kind: j.kind, key: j.key, label: j.label ?? '', seed: j.seed })}: ${j.error ?? 'unknown reason'}`);
  return lines.join('\n');
}
