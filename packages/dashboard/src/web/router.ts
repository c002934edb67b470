// A hash router: #/<page>[/<item>][?query] picks a page; the body's data-ready says when it is drawn.
import { fail } from './dom.js';

/** A page, given the item of its path (#/runs/<id>: the id; '' for none) and the query. */
export type Page = (item: string, params: URLSearchParams) => Promise<void>;
/** Pages by name ('runs') and by name with an item ('runs/:'). */
export type Routes = Record<string, Page>;

let current: () => Promise<void> = async () => {};
let refresh: number | undefined;

/** Draws the page again after `ms` unless the user moves on first (pages that follow live state). */
export function refreshIn(ms: number): void {
  refresh = window.setTimeout(() => void current(), ms);
}

/** Draws the page of the hash now and at each change; `fallback` for a hash naming no page. */
export function startRouter(routes: Routes, fallback: string): void {
  current = async () => {
    window.clearTimeout(refresh);
    const [pathPart, queryPart] = (location.hash.replace(/^#/, '') || `/${fallback}`).split('?');
    const params = new URLSearchParams(queryPart ?? '');
    const parts = pathPart!.split('/').filter(Boolean).map(decodeURIComponent);
    for (const a of document.querySelectorAll('header a')) a.classList.toggle('active', (a as HTMLAnchorElement).hash.slice(2) === parts[0]);
    // Own keys only: a hash such as #/constructor names no page.
    const at = (key: string) => (Object.hasOwn(routes, key) ? routes[key] : undefined);
    const page = (parts[1] ? at(`${parts[0]}/:`) : undefined) ?? at(parts[0] ?? '') ?? routes[fallback]!;
    try {
      await page(parts[1] ?? '', params);
    } catch (e) {
      fail(e);
    }
    document.body.setAttribute('data-ready', location.hash);
  };
  window.addEventListener('hashchange', () => void current());
  void current();
}
