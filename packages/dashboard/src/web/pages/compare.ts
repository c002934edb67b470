// #/compare/<id>,<id>…: several runs in one plot, each with its metrics.
import { api, type Json, type SummaryView } from '../api.js';
import { h, plotInto, show } from '../dom.js';
import { metricsTable } from './run.js';

export async function comparePage(ids: string[]): Promise<void> {
  const plot = h('div', { id: 'plot', class: 'plot' });
  const runs = await Promise.all(ids.map((id) => api<{ summary: SummaryView }>(`/api/runs/${encodeURIComponent(id)}`)));
  show(h('h1', {}, `${ids.length} runs side by side`), plot, ...runs.flatMap((r, i) => [h('h2', {}, ids[i]!), metricsTable(r.summary)]));
  const { spec } = await api<{ spec: Json }>(`/api/plot?runs=${ids.map(encodeURIComponent).join(',')}`);
  await plotInto(plot, spec);
}
