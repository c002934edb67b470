// #/sweeps/<id>: one sweep's jobs, drawn again until it has finished.
import { api, type SweepStatusView } from '../api.js';
import { h, show } from '../dom.js';
import { refreshIn } from '../router.js';

export async function sweepPage(id: string): Promise<void> {
  const s = await api<SweepStatusView>(`/api/sweeps/${encodeURIComponent(id)}`);
  show(
    h('h1', {}, `Sweep ${s.id}`),
    h(
      'p',
      { id: 'sweep-counts' },
      Object.entries(s.counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(' · '),
      s.etaSeconds !== null && !s.finished ? ` · ETA ${Math.round(s.etaSeconds)} s` : '',
    ),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['job', 'kind', 'optimizer', 'seed', 'state', 'attempts', 'progress / error'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...s.jobs.map((j) =>
          h(
            'tr',
            {},
            h('td', {}, j.id),
            h('td', {}, j.kind),
            h('td', {}, j.label ?? ''),
            h('td', { class: 'num' }, String(j.seed)),
            h('td', {}, j.state),
            h('td', { class: 'num' }, String(j.attempts)),
            h('td', {}, j.error ?? (j.progress?.total ? `${j.progress.done ?? 0} / ${j.progress.total}` : '')),
          ),
        ),
      ),
    ),
  );
  if (!s.finished) refreshIn(2000);
}
