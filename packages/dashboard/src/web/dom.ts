// The page's DOM helpers: elements, the view they replace, numbers as the tables show them, plots.
import embed, { type Result as EmbedResult } from 'vega-embed';
import type { Json } from './api.js';

const view = document.getElementById('view')!;

/** An element with attributes and children (strings become text). */
export function h(
  tag: string,
  attrs: Record<string, string | number | boolean | ((e: Event) => void)> = {},
  ...children: (Node | string | null)[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

export const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toExponential(digits - 1));
/** Replaces the page's content. */
export const show = (...nodes: (Node | string)[]) => view.replaceChildren(...nodes);
export const fail = (e: unknown) => show(h('p', { class: 'error' }, (e as Error).message));

export async function plotInto(target: HTMLElement, spec: Json): Promise<EmbedResult> {
  // Hover values: every mark gets a tooltip of its data.
  const withTooltips = { ...spec, config: { ...(spec.config as Json | undefined), mark: { tooltip: { content: 'data' } } } };
  return embed(target, withTooltips as never, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } });
}
