// #/figures: one card per experiment and scale, from the store's runs or, for a figure the store
// has none of, from the data `l2o results` kept beside its page.
import { api, type FigureListing } from '../api.js';
import { h, show } from '../dom.js';

/** "kept data (docs/results/cpu)": the folder of the page and its data/ by its last three names, its data file in full on hover. */
export function keptMark(f: FigureListing): HTMLElement {
  const folder = (f.keptFile ?? '').split(/[\\/]/).slice(0, -2);
  return h('span', { class: 'kept', title: f.keptFile ?? '' }, `kept data (${folder.slice(-3).join('/')})`);
}

export async function figuresPage(): Promise<void> {
  const { figures, keptErrors } = await api<{ figures: FigureListing[]; keptErrors?: string[] }>('/api/figures');
  // A kept file that cannot be read: its one-line reason, above the figures that can.
  const errors = (keptErrors ?? []).map((e) => h('p', { class: 'error' }, e));
  show(
    h('h1', {}, 'Figures'),
    ...errors,
    figures.length
      ? h(
          'div',
          { class: 'cards', id: 'figures' },
          ...figures.map((f) =>
            h(
              'div',
              { class: 'card', 'data-figure': f.name, 'data-source': f.source },
              h('a', { href: `#/figures/${encodeURIComponent(f.name)}?scale=${encodeURIComponent(f.scale)}` }, h('strong', {}, f.name)),
              ` · ${f.scale} · ${f.problem} on ${f.testDataset} · seeds ${f.seeds.join(', ')}`,
              f.source === 'kept' ? h('div', {}, keptMark(f)) : null,
              f.verdict ? h('p', { class: 'verdict' }, f.verdict.split('\n')[0]!) : h('p', { class: 'note' }, 'no verdict yet'),
            ),
          ),
        )
      : h('p', { class: 'note' }, 'No runs in the store yet.'),
  );
}
