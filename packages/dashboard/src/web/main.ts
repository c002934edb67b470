// The dashboard's page: a hash router over the read-only API, vega-embed for the plots, and the
// live page that runs a stored learned optimizer with tfjs in this tab.
import embed, { type Result as EmbedResult } from 'vega-embed';
import { changeset } from 'vega';
import { tf } from '@l2o/core/portable';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { CheckpointListing, RunListing } from '@l2o/store';
import { runLive, type LiveCheckpoint, type LiveResult } from '../live/live-run.js';

type Json = Record<string, unknown>;
/** A row of /api/runs (the store's listing; a type only: nothing of the store is bundled). */
type RunRow = RunListing;

/** A run's summary as /api/runs/:id gives it (core's RunSummary). */
interface OptimizerView {
  label: string;
  id: string;
  kind: string;
  finalGap: number;
  finalF: number;
  iterationsTo: Record<string, number | null>;
  divergedAt: number | null;
  parameters?: number;
  trainingSeconds?: number;
  evaluationSeconds: number;
  acceptance?: number;
}
interface SummaryView {
  name: string;
  problem: { id: string };
  trainDataset: { id: string };
  testDataset: { id: string };
  testInstances: number;
  iterations: number;
  scale: string;
  seed: number;
  engine: string;
  optimizers: OptimizerView[];
}

declare global {
  interface Window {
    /** The last live run's result, for tests and curious users. */
    __l2oLive?: LiveResult & { seed: number; iterations: number; sha256: string };
  }
}

const view = document.getElementById('view')!;

/** An element with attributes and children (strings become text). */
function h(tag: string, attrs: Record<string, string | number | boolean | ((e: Event) => void)> = {}, ...children: (Node | string | null)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

async function api<T = Json>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toExponential(digits - 1));
const show = (...nodes: (Node | string)[]) => view.replaceChildren(...nodes);
const fail = (e: unknown) => show(h('p', { class: 'error' }, (e as Error).message));

async function plotInto(target: HTMLElement, spec: Json): Promise<EmbedResult> {
  // Hover values: every mark gets a tooltip of its data.
  const withTooltips = { ...spec, config: { ...(spec.config as Json | undefined), mark: { tooltip: { content: 'data' } } } };
  return embed(target, withTooltips as never, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } });
}

// ---- runs ---------------------------------------------------------------------------------------

const FILTERS = ['model', 'problem', 'dataset', 'scale', 'seed', 'since'] as const;

async function runsPage(params: URLSearchParams): Promise<void> {
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

function metricsTable(summary: SummaryView): HTMLElement {
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

async function runPage(id: string): Promise<void> {
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

async function comparePage(ids: string[]): Promise<void> {
  const plot = h('div', { id: 'plot', class: 'plot' });
  const runs = await Promise.all(ids.map((id) => api<{ summary: SummaryView }>(`/api/runs/${encodeURIComponent(id)}`)));
  show(h('h1', {}, `${ids.length} runs side by side`), plot, ...runs.flatMap((r, i) => [h('h2', {}, ids[i]!), metricsTable(r.summary)]));
  const { spec } = await api<{ spec: Json }>(`/api/plot?runs=${ids.map(encodeURIComponent).join(',')}`);
  await plotInto(plot, spec);
}

// ---- figures --------------------------------------------------------------------------------------

interface FigureListing {
  name: string;
  scale: string;
  problem: string;
  testDataset: string;
  seeds: number[];
  runs: string[];
  verdict: string | null;
}

async function figuresPage(): Promise<void> {
  const { figures } = await api<{ figures: FigureListing[] }>('/api/figures');
  show(
    h('h1', {}, 'Figures'),
    figures.length
      ? h(
          'div',
          { class: 'cards', id: 'figures' },
          ...figures.map((f) =>
            h(
              'div',
              { class: 'card' },
              h('a', { href: `#/figures/${encodeURIComponent(f.name)}?scale=${encodeURIComponent(f.scale)}` }, h('strong', {}, f.name)),
              ` · ${f.scale} · ${f.problem} on ${f.testDataset} · seeds ${f.seeds.join(', ')}`,
              f.verdict ? h('p', { class: 'verdict' }, f.verdict.split('\n')[0]!) : h('p', { class: 'note' }, 'no verdict yet'),
            ),
          ),
        )
      : h('p', { class: 'note' }, 'No runs in the store yet.'),
  );
}

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

async function figurePage(name: string, params: URLSearchParams): Promise<void> {
  const scale = params.get('scale');
  const f = await api<FigureListing & { description: string | null; spec: Json; table: string; scales: string[] }>(
    `/api/figures/${encodeURIComponent(name)}${scale ? `?scale=${encodeURIComponent(scale)}` : ''}`,
  );
  const plot = h('div', { id: 'plot', class: 'plot' });
  show(
    h('h1', {}, `${f.name} (${f.scale})`),
    h('p', {}, f.description ?? ''),
    h(
      'p',
      { class: 'note' },
      `${f.seeds.length} seed(s): ${f.seeds.join(', ')} · runs `,
      ...f.runs.map((id) => h('a', { href: `#/runs/${encodeURIComponent(id)}`, style: 'margin-right: 0.6em' }, id)),
    ),
    f.verdict
      ? h('div', { class: 'verdict', id: 'verdict' }, f.verdict)
      : h('p', { class: 'note' }, 'No verdict for this figure yet (docs/results/<figure>.md, section "Verdict").'),
    plot,
    markdownTables(f.table),
  );
  await plotInto(plot, f.spec);
}

// ---- sweeps ---------------------------------------------------------------------------------------

interface SweepStatusView {
  id: string;
  name: string;
  cancelled: boolean;
  counts: Record<string, number>;
  etaSeconds: number | null;
  finished: boolean;
  jobs: {
    id: string;
    kind: string;
    label?: string;
    seed: number;
    state: string;
    attempts: number;
    progress?: { done?: number; total?: number };
    error?: string;
  }[];
}

let refresh: number | undefined;

async function sweepsPage(): Promise<void> {
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
  if (sweeps.some((s) => !s.finished)) refresh = window.setTimeout(() => void route(), 2000);
}

async function sweepPage(id: string): Promise<void> {
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
  if (!s.finished) refresh = window.setTimeout(() => void route(), 2000);
}

// ---- live -----------------------------------------------------------------------------------------

/** The engine for the page: ?backend=… if given, else WebGL where the browser offers it, else WASM. */
async function chooseBackend(wanted: string | null): Promise<string> {
  setWasmPaths(new URL('./', location.href).href);
  for (const name of wanted ? [wanted] : ['webgl', 'wasm']) {
    try {
      if (await tf.setBackend(name)) return name;
    } catch {
      // Not offered here (no WebGL context, or the WASM binary failed): the next one.
    }
  }
  if (wanted) throw new Error(`The ${wanted} backend is not available in this browser.`);
  await tf.setBackend('cpu');
  return 'cpu';
}

async function livePage(params: URLSearchParams): Promise<void> {
  const { checkpoints } = await api<{ checkpoints: CheckpointListing[] }>('/api/checkpoints');
  if (!checkpoints.length) {
    show(
      h('h1', {}, 'Try it live'),
      h('p', { class: 'note' }, 'No stored run has a learned optimizer yet: run `npm run quickstart` (or any `l2o run` with a model) first.'),
    );
    return;
  }
  const wantedRun = params.get('run');
  const wantedLabel = params.get('label');
  const select = h(
    'select',
    { id: 'live-checkpoint' },
    ...checkpoints.map((c, i) =>
      h('option', { value: i, selected: c.runId === wantedRun && c.label === wantedLabel }, `${c.label} (${c.modelId}) · ${c.problem.id} · run ${c.runId}`),
    ),
  ) as HTMLSelectElement;
  const seed = h('input', { id: 'live-seed', type: 'number', min: 0, value: params.get('seed') ?? '0', style: 'width: 6em' }) as HTMLInputElement;
  const iterations = h('input', {
    id: 'live-iterations',
    type: 'number',
    min: 1,
    max: 5000,
    value: params.get('iterations') ?? '100',
    style: 'width: 6em',
  }) as HTMLInputElement;
  const status = h(
    'p',
    { id: 'live-status', class: 'note' },
    'Pick a checkpoint and a seed: the instance is a synthetic one drawn here from the seed, with the sizes the model was trained at.',
  );
  const plot = h('div', { id: 'live-plot', class: 'plot' });
  const table = h('table', { id: 'live-values' });
  const start = h('button', { id: 'live-start', type: 'button' }, 'Run') as HTMLButtonElement;
  start.addEventListener('click', () => void go());
  show(
    h('h1', {}, 'Try it live'),
    h('p', {}, 'The learned optimizer and FISTA run in this browser tab with TensorFlow.js, from the checkpoint stored with the run.'),
    h(
      'form',
      { class: 'filters' },
      h('label', {}, 'checkpoint', select),
      h('label', {}, 'instance seed', seed),
      h('label', {}, 'iterations', iterations),
      start,
    ),
    status,
    plot,
    table,
  );

  async function go(): Promise<void> {
    start.disabled = true;
    try {
      const chosen = checkpoints[Number(select.value)]!;
      const backend = await chooseBackend(params.get('backend'));
      status.textContent = `Loading the checkpoint; solving the instance to F* (reference solver) on ${backend}…`;
      const checkpoint = await api<LiveCheckpoint & Json>(`/api/checkpoints/${chosen.sha256}`);
      const datasetOptions = chosen.trainDataset.id === 'synthetic' ? chosen.trainDataset.options : {};
      const spec = {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 560,
        height: 320,
        // The points arrive one by one: the layout (axis label widths) follows them.
        autosize: { type: 'pad', resize: true },
        data: { name: 'points' },
        mark: { type: 'line', tooltip: { content: 'data' } },
        encoding: {
          x: { field: 'k', type: 'quantitative', title: 'iteration k' },
          y: {
            field: 'gap',
            type: 'quantitative',
            scale: { type: 'log' },
            axis: { format: '.0e' },
            title: 'relative gap (F(x_k) − F*)/F*, ≤ 1e-12 drawn at 1e-12',
          },
          color: { field: 'optimizer', type: 'nominal' },
        },
      };
      const embedded = await embed(plot, spec as never, { renderer: 'svg', actions: false });
      const last: Record<string, { k: number; f: number; gap: number }> = {};
      const pending: { optimizer: string; k: number; gap: number }[] = [];
      const n = Number(iterations.value);
      const result = await runLive(
        { checkpoint, problem: chosen.problem, datasetOptions, seed: Number(seed.value), iterations: n },
        async (label, k, f, gap) => {
          last[label] = { k, f, gap };
          pending.push({ optimizer: label, k, gap: Math.max(gap, 1e-12) });
          // Draw every few iterations: each frame lets the page paint. (A view takes one pending
          // changeset per run, so the points since the last frame go in together.)
          if (k % 5 === 0 || k === n) {
            embedded.view.change('points', changeset().insert(pending.splice(0)));
            await embedded.view.runAsync();
            table.replaceChildren(
              h('tr', {}, ...['optimizer', 'k', 'F(x_k)', 'relative gap'].map((t) => h('th', {}, t))),
              ...Object.entries(last).map(([l, v]) =>
                h(
                  'tr',
                  {},
                  h('td', {}, l),
                  h('td', { class: 'num' }, String(v.k)),
                  h('td', { class: 'num' }, v.f.toPrecision(7)),
                  h('td', { class: 'num' }, fmt(v.gap)),
                ),
              ),
            );
            status.textContent = `Running ${label} on ${backend}: iteration ${k} of ${n}`;
            await new Promise((r) => requestAnimationFrame(() => r(null)));
          }
        },
      );
      await embedded.view.runAsync();
      window.__l2oLive = { ...result, seed: Number(seed.value), iterations: n, sha256: chosen.sha256 };
      const finals = result.curves.map((c) => `${c.label} F = ${c.f.at(-1)!.toPrecision(7)} (gap ${fmt(c.gap.at(-1))})`).join(' · ');
      status.textContent = `Done on ${result.backend}: F* = ${result.fStar.toPrecision(7)} · ${finals}`;
      status.setAttribute('data-state', 'done');
    } catch (e) {
      status.textContent = (e as Error).message;
      status.className = 'error';
      status.setAttribute('data-state', 'failed');
    } finally {
      start.disabled = false;
    }
  }
  if (params.get('autorun') === '1') await go();
}

// ---- router ---------------------------------------------------------------------------------------

async function route(): Promise<void> {
  window.clearTimeout(refresh);
  const [pathPart, queryPart] = (location.hash.replace(/^#/, '') || '/runs').split('?');
  const params = new URLSearchParams(queryPart ?? '');
  const parts = pathPart!.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll('header a')) a.classList.toggle('active', (a as HTMLAnchorElement).hash.slice(2) === parts[0]);
  try {
    if (parts[0] === 'runs' && parts[1]) await runPage(parts[1]);
    else if (parts[0] === 'compare' && parts[1]) await comparePage(parts[1].split(','));
    else if (parts[0] === 'figures' && parts[1]) await figurePage(parts[1], params);
    else if (parts[0] === 'figures') await figuresPage();
    else if (parts[0] === 'sweeps' && parts[1]) await sweepPage(parts[1]);
    else if (parts[0] === 'sweeps') await sweepsPage();
    else if (parts[0] === 'live') await livePage(params);
    else await runsPage(params);
    document.body.setAttribute('data-ready', location.hash);
  } catch (e) {
    fail(e);
    document.body.setAttribute('data-ready', location.hash);
  }
}

window.addEventListener('hashchange', () => void route());
void route();
