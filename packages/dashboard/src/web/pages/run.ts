// #/runs/<id>: one run's plot, metrics, config and versions, and links to try its checkpoints live.
import { api, type Json, type SummaryView } from '../api.js';
import { fmt, h, plotInto, show } from '../dom.js';

/** A run's metrics, one row per optimizer (also the compare page's). */
export function metricsTable(summary: SummaryView): HTMLElement {
  const optimizers = summary.optimizers;
  const thresholds = Object.keys(optimizers[0]?.iterationsTo ?? {});
  return h(
    'table',
    { id: 'metrics' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          'optimizer',
          'kind',
          'final gap',
          'median final gap',
          'diverged',
          'final F',
          ...thresholds.map((t) => `k to ${t}`),
          'parameters',
          'training s',
          'evaluation s',
          'learned steps kept',
        ].map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      ...optimizers.map((o) => {
        const to = o.iterationsTo;
        return h(
          'tr',
          {},
          h('td', {}, o.label),
          h('td', {}, o.kind),
          h('td', { class: 'num' }, o.divergedAt !== null ? `diverged at ${o.divergedAt}` : fmt(o.finalGap)),
          // Older runs have no per-instance counts: blank, as for the other optional columns.
          h('td', { class: 'num' }, o.medianFinalGap === undefined ? '' : o.medianFinalGap === null ? 'diverged' : fmt(o.medianFinalGap)),
          h('td', { class: 'num' }, o.divergedInstances === undefined ? '' : `${o.divergedInstances} of ${o.gapInstances}`),
          h('td', { class: 'num' }, fmt(o.finalF, 6)),
          ...thresholds.map((t) => h('td', { class: 'num' }, to[t] === null ? 'not reached' : String(to[t]))),
          h('td', { class: 'num' }, o.parameters === undefined ? '' : String(o.parameters)),
          h('td', { class: 'num' }, o.trainingSeconds === undefined ? '' : o.trainingSeconds.toFixed(1)),
          h('td', { class: 'num' }, o.evaluationSeconds.toFixed(2)),
          h('td', { class: 'num' }, o.acceptance === undefined ? '' : `${(o.acceptance * 100).toFixed(1)}%`),
        );
      }),
    ),
  );
}

export async function runPage(id: string): Promise<void> {
  const run = await api<{
    id: string;
    summary: SummaryView;
    config: Json;
    versions: Json;
    gitCommit: string | null;
    checkpoints: { label: string; modelId: string }[];
  }>(`/api/runs/${encodeURIComponent(id)}`);
  const s = run.summary;
  const plot = h('div', { id: 'plot', class: 'plot' });
  show(
    h('h1', {}, `Run ${id}`),
    h(
      'p',
      {},
      `${s.name} · problem ${s.problem.id} · trained on ${s.trainDataset.id} · tested on ${s.testDataset.id} (${s.testInstances} instances, ${s.iterations} iterations) · scale ${s.scale} · seed ${s.seed} · engine ${s.engine}`,
    ),
    plot,
    h('h2', {}, 'Metrics'),
    metricsTable(s),
    ...(run.checkpoints.length
      ? [
          h(
            'p',
            {},
            'Try a checkpoint live: ',
            ...run.checkpoints.map((c) =>
              h('a', { href: `#/live?run=${encodeURIComponent(id)}&label=${encodeURIComponent(c.label)}`, style: 'margin-right: 1em' }, c.label),
            ),
          ),
        ]
      : []),
    h('h2', {}, 'Config'),
    h('pre', { id: 'config' }, JSON.stringify(run.config, null, 2)),
    h('h2', {}, 'Versions'),
    h('pre', {}, JSON.stringify({ ...run.versions, ...(run.gitCommit ? { gitCommit: run.gitCommit } : {}) }, null, 2)),
  );
  const { spec } = await api<{ spec: Json }>(`/api/plot?runs=${encodeURIComponent(id)}`);
  await plotInto(plot, spec);
}
