// #/sweeps: local sweeps (their status files) and queued ones, drawn again while any is running.
import { api, type SweepStatusView } from '../api.js';
import { h, show } from '../dom.js';
import { refreshIn } from '../router.js';

export async function sweepsPage(): Promise<void> {
  const { queue, sweepsDir, sweeps, queueError } = await api<{
    queue: string | null;
    sweepsDir: string | null;
    sweeps: (SweepStatusView & { where: string })[];
    queueError?: string;
  }>('/api/sweeps');
  // A queue that cannot be reached: its reason, above the local sweeps.
  const queueNote = queueError ? [h('p', { class: 'error' }, queueError)] : [];
  const following = [sweepsDir ? `local sweeps in ${sweepsDir}` : null, queue ? `the queue ${queue}` : null].filter(Boolean).join(' and ');
  if (!sweeps.length) {
    show(
      h('h1', {}, 'Sweeps'),
      ...queueNote,
      h(
        'p',
        { class: 'note', id: 'sweeps-none' },
        `No sweeps yet${following ? ` (following ${following})` : ''}. A local \`l2o sweep\` writes its live status into ./sweeps (--sweeps to follow another folder); start the dashboard with --queue redis://… to follow queued sweeps.`,
      ),
    );
    return;
  }
  show(
    h('h1', {}, 'Sweeps'),
    ...queueNote,
    h('p', { class: 'note' }, `Following ${following}.`),
    h(
      'table',
      { id: 'sweeps' },
      h('thead', {}, h('tr', {}, ...['sweep', 'where', 'waiting', 'active', 'completed', 'failed', 'ETA'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...sweeps.map((s) =>
          h(
            'tr',
            { 'data-sweep-id': s.id },
            h('td', {}, h('a', { href: `#/sweeps/${encodeURIComponent(s.id)}` }, s.id)),
            h('td', {}, s.where),
            ...['waiting', 'active', 'completed', 'failed'].map((k) => h('td', { class: 'num' }, String(s.counts[k] ?? 0))),
            h('td', {}, s.finished ? (s.cancelled ? 'cancelled' : 'done') : s.etaSeconds === null ? '…' : `${Math.round(s.etaSeconds)} s`),
          ),
        ),
      ),
    ),
  );
  if (sweeps.some((s) => !s.finished)) refreshIn(2000);
}
