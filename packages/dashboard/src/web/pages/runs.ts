// #/runs: the stored runs, filtered and sorted by the query; a few of them chosen to compare.
import { api, type RunRow } from '../api.js';
import { fmt, h, show } from '../dom.js';

const FILTERS = ['model', 'problem', 'dataset', 'scale', 'seed', 'since'] as const;

export async function runsPage(params: URLSearchParams): Promise<void> {
  const all = await api<{ runs: RunRow[] }>('/api/runs');
  const distinct = (f: (r: RunRow) => string[]) => [...new Set(all.runs.flatMap(f))].sort();
  const choices: Record<string, string[]> = {
    model: distinct((r) => r.optimizers.filter((o) => o.kind === 'learned').map((o) => o.id)),
    problem: distinct((r) => [r.problem]),
    dataset: distinct((r) => [r.testDataset]),
    scale: distinct((r) => [r.scale]),
  };
  const form = h('form', { class: 'filters', id: 'filters' });
  for (const key of FILTERS) {
    const value = params.get(key) ?? '';
    let input: HTMLElement;
    if (choices[key]) {
      input = h(
        'select',
        { id: `filter-${key}`, name: key },
        h('option', { value: '' }, 'any'),
        ...choices[key].map((c) => h('option', { value: c, selected: c === value }, c)),
      );
    } else {
      input = h('input', { id: `filter-${key}`, name: key, value, type: key === 'since' ? 'date' : 'number', min: 0, style: 'width: 7em' });
    }
    form.append(h('label', {}, key === 'dataset' ? 'test dataset' : key, input));
  }
  form.addEventListener('change', () => {
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form as HTMLFormElement)) if (typeof v === 'string' && v) next.set(k, v);
    for (const k of ['sort', 'order']) if (params.get(k)) next.set(k, params.get(k)!);
    location.hash = `#/runs?${next}`;
  });
  const query = new URLSearchParams([...params].filter(([, v]) => v !== ''));
  const { runs } = await api<{ runs: RunRow[] }>(`/api/runs?${query}`);
  const sort = params.get('sort') ?? 'created';
  const order = params.get('order') ?? (sort === 'created' ? 'desc' : 'asc');
  const header = (key: string, title: string) =>
    h(
      'th',
      {
        class: `sortable${sort === key ? ` sorted-${order}` : ''}`,
        'data-sort': key,
        onclick: () => {
          const next = new URLSearchParams(params);
          next.set('sort', key);
          next.set('order', sort === key && order === 'asc' ? 'desc' : 'asc');
          location.hash = `#/runs?${next}`;
        },
      },
      title,
    );
  const selected = new Set<string>();
  const compare = h(
    'button',
    { id: 'compare', disabled: true, type: 'button', onclick: () => (location.hash = `#/compare/${[...selected].join(',')}`) },
    'Compare selected',
  );
  const rows = runs.map((r) =>
    h(
      'tr',
      { 'data-run-id': r.id },
      h(
        'td',
        {},
        h('input', {
          type: 'checkbox',
          'aria-label': `select ${r.id}`,
          onchange: (e) => {
            if ((e.target as HTMLInputElement).checked) selected.add(r.id);
            else selected.delete(r.id);
            (compare as HTMLButtonElement).disabled = selected.size < 1;
          },
        }),
      ),
      h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
      h('td', {}, r.name),
      h('td', {}, r.problem),
      h('td', {}, r.testDataset),
      h('td', {}, r.scale),
      h('td', { class: 'num' }, String(r.seed)),
      h('td', {}, r.engine),
      h('td', {}, r.createdAt.replace('T', ' ').slice(0, 16)),
      h('td', {}, r.optimizers.map((o) => `${o.label} ${o.divergedAt !== null ? 'diverged' : fmt(o.finalGap)}`).join(' · ')),
    ),
  );
  show(
    h('h1', {}, 'Runs'),
    form,
    h('p', { class: 'note', id: 'runs-count' }, `${runs.length} of ${all.runs.length} runs`),
    h(
      'table',
      { id: 'runs-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, ''),
          h('th', {}, 'run'),
          header('name', 'experiment'),
          header('problem', 'problem'),
          header('dataset', 'test dataset'),
          header('scale', 'scale'),
          header('seed', 'seed'),
          h('th', {}, 'engine'),
          header('created', 'created'),
          h('th', {}, 'final relative gap'),
        ),
      ),
      h('tbody', {}, ...rows),
    ),
    h('p', {}, compare),
  );
}
