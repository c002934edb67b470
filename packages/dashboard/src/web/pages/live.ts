// #/live: a stored learned optimizer and FISTA run in this tab with tfjs, on an instance drawn here.
import embed from 'vega-embed';
import { changeset } from 'vega';
import { tf } from '@l2o/core/portable';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { CheckpointListing } from '@l2o/store';
import { runLive, type LiveCheckpoint, type LiveResult } from '../../live/live-run.js';
import { api, type Json } from '../api.js';
import { fmt, h, show } from '../dom.js';

declare global {
  interface Window {
    /** The last live run's result, for tests and curious users. */
    __l2oLive?: LiveResult & { seed: number; iterations: number; sha256: string };
  }
}

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

export async function livePage(params: URLSearchParams): Promise<void> {
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
