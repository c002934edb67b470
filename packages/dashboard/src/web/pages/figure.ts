// #/figures/<name>?scale=…: a figure over its seeds (mean and 95% band), its table and its verdict.
import { api, type FigureListing, type Json } from '../api.js';
import { h, plotInto, show } from '../dom.js';
import { keptMark } from './figures.js';

/** A Markdown table (as seedTableMarkdown writes it) as an HTML table; other lines as paragraphs. */
function markdownTables(text: string): HTMLElement {
  const out = h('div', {});
  let rows: string[][] = [];
  const flush = () => {
    if (!rows.length) return;
    const [head, ...body] = rows.filter((r) => !r.every((c) => /^:?-+:?$/.test(c)));
    out.append(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...head!.map((c) => h('th', {}, c)))),
        h('tbody', {}, ...body.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
      ),
    );
    rows = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim().startsWith('|'))
      rows.push(
        line
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim()),
      );
    else {
      flush();
      if (line.trim()) out.append(h('p', {}, line.replace(/\*\*/g, '')));
    }
  }
  flush();
  return out;
}

export async function figurePage(name: string, params: URLSearchParams): Promise<void> {
  const scale = params.get('scale');
  const f = await api<FigureListing & { description: string | null; spec: Json; table: string; scales: string[] }>(
    `/api/figures/${encodeURIComponent(name)}${scale ? `?scale=${encodeURIComponent(scale)}` : ''}`,
  );
  const plot = h('div', { id: 'plot', class: 'plot' });
  // Kept runs are not in this store: their ids are named, not linked.
  const runs =
    f.source === 'kept'
      ? [f.runs.join(', '), ' · ', keptMark(f)]
      : f.runs.map((id) => h('a', { href: `#/runs/${encodeURIComponent(id)}`, style: 'margin-right: 0.6em' }, id));
  show(
    h('h1', {}, `${f.name} (${f.scale})`),
    h('p', {}, f.description ?? ''),
    h('p', { class: 'note', id: 'figure-runs' }, `${f.seeds.length} seed(s): ${f.seeds.join(', ')} · runs `, ...runs),
    f.verdict
      ? h('div', { class: 'verdict', id: 'verdict' }, f.verdict)
      : h('p', { class: 'note' }, 'No verdict for this figure yet (docs/results/<figure>.md, section "Verdict").'),
    plot,
    markdownTables(f.table),
  );
  await plotInto(plot, f.spec);
}
