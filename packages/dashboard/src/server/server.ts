import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context, type Handler } from 'hono';
import type { BlankEnv } from 'hono/types';
import { isL2oError, L2oError } from '@l2o/core';
import { aggregateSeeds, convergenceSpec, figureDataPath, readFigureData, seedBandsSpec, seedPlotTitle, seedTableMarkdown, type LoadedRun } from '@l2o/report';
import { newestPerSeed, type RunFilter, type RunListing, type SqlRunStore } from '@l2o/store';
import { listSweeps, readLocalSweeps, redactQueue, sweepStatus, type SweepStatus } from '@l2o/sweep';
import { StoreAccess } from './store-access.js';

export interface DashboardOptions {
  /** The run store's location (a folder or postgres://…). */
  store: string;
  /** A BullMQ queue's Redis (redis://…) whose sweeps the Sweeps page follows. */
  queue?: string;
  /** The reports folder of local sweeps (`l2o sweep`'s ./sweeps), whose live status files the Sweeps page follows. */
  sweepsDir?: string;
  /**
   * The pages of `l2o results` (docs/results of a checkout): figN.md files with a "## Verdict"
   * section, and data/figN.json, the figure's kept runs, shown when the store has none of it. Optional.
   */
  resultsDir?: string;
  /** The built web app (dist/web); defaults to this package's. */
  webDir?: string;
}

/** A 4xx answer: the message is for the user, never a stack trace. */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const SORT_KEYS = ['created', 'name', 'problem', 'dataset', 'scale', 'seed'] as const;
const RUN_QUERY = ['model', 'problem', 'dataset', 'scale', 'seed', 'name', 'since', 'sort', 'order'] as const;

/** The largest seed the store holds: its seed columns are PostgreSQL integers. */
const MAX_SEED = 2 ** 31 - 1;
/** The times a `since` may name: PostgreSQL refuses year 0, and four-digit years end at 9999. */
const SINCE_RANGE = [Date.parse('0001-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')] as const;

/** A value as an error message shows it: quoted, control characters escaped (\u0000), cut at 80 characters. */
function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return `'${cut.replace(/\p{Cc}/gu, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

/** Refuses query parameters the route does not know, and one given twice. */
function onlyKnown(c: Context, known: readonly string[]): void {
  for (const [key, values] of Object.entries(c.req.queries())) {
    if (!known.includes(key)) throw new BadRequest(`Unknown query parameter ${shown(key)}; known: ${known.join(', ') || 'none'}.`);
    if (values.length > 1) throw new BadRequest(`Give the query parameter ${key} once, got it ${values.length} times.`);
  }
}

/**
 * A name or label compared with the store's: at most 200 characters and no control characters
 * (PostgreSQL's text cannot hold NUL, and no stored name has the others).
 */
function text(parameter: string, value: string): string {
  if (value.length > 200) throw new BadRequest(`${parameter} must be at most 200 characters, got ${value.length}.`);
  if (/\p{Cc}/u.test(value)) throw new BadRequest(`${parameter} must not contain control characters, got ${shown(value)}.`);
  return value;
}

function runId(value: string): string {
  if (!RUN_ID.test(value)) throw new BadRequest(`${shown(value)} is not a run id (letters, digits, '.', '_', '-').`);
  return value;
}

/** The run filter of /api/runs's query, checked. */
export function runQuery(q: Record<string, string | undefined>): { filter: RunFilter; sort: (typeof SORT_KEYS)[number]; order: 'asc' | 'desc' } {
  const filter: RunFilter = {};
  for (const key of ['model', 'problem', 'dataset', 'scale', 'name'] as const) {
    const v = q[key];
    if (v !== undefined && v !== '') filter[key] = text(key, v);
  }
  if (q.seed !== undefined && q.seed !== '') {
    const seed = /^\d+$/.test(q.seed) ? Number(q.seed) : NaN;
    if (!(seed <= MAX_SEED)) throw new BadRequest(`seed must be a whole number from 0 to ${MAX_SEED}, got ${shown(q.seed)}.`);
    filter.seed = seed;
  }
  if (q.since !== undefined && q.since !== '') {
    const since = new Date(q.since);
    const time = since.getTime();
    if (!/^\d{4}-\d{2}-\d{2}/.test(q.since) || !(time >= SINCE_RANGE[0] && time <= SINCE_RANGE[1])) {
      throw new BadRequest(`since must be a date such as 2026-11-29 (or an ISO time) from year 1 to 9999, got ${shown(q.since)}.`);
    }
    filter.since = since;
  }
  const sort = (q.sort ?? 'created') as (typeof SORT_KEYS)[number];
  if (!SORT_KEYS.includes(sort)) throw new BadRequest(`sort must be one of ${SORT_KEYS.join(', ')}, got ${shown(q.sort!)}.`);
  const order = (q.order ?? (sort === 'created' ? 'desc' : 'asc')) as 'asc' | 'desc';
  if (order !== 'asc' && order !== 'desc') throw new BadRequest(`order must be asc or desc, got ${shown(q.order!)}.`);
  return { filter, sort, order };
}

function sortRuns(runs: RunListing[], sort: (typeof SORT_KEYS)[number], order: 'asc' | 'desc'): RunListing[] {
  const key = (r: RunListing): string | number => (sort === 'created' ? r.createdAt : sort === 'dataset' ? r.testDataset : sort === 'seed' ? r.seed : r[sort]);
  const sign = order === 'asc' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * sign;
  });
}

async function loadRun(store: SqlRunStore, id: string): Promise<LoadedRun & { record: NonNullable<Awaited<ReturnType<SqlRunStore['getRun']>>> }> {
  const record = await store.getRun(id);
  if (!record) throw new BadRequest(`No run '${id}' in the store.`, 404);
  return { id, summary: record.summary, curves: record.curves, record };
}

/**
 * The folders of `l2o results`' pages: the results folder, and each of its scales' folders
 * (`l2o results --scale paper,cpu` writes <resultsDir>/<scale>/, each with its data/).
 */
function resultsFolders(resultsDir: string | undefined): string[] {
  if (!resultsDir || !existsSync(resultsDir)) return [];
  const scales = readdirSync(resultsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'data' && existsSync(path.join(resultsDir, e.name, 'data')))
    .map((e) => path.join(resultsDir, e.name));
  return [resultsDir, ...scales];
}

/** The "## Verdict" section of the figure's page, <resultsDir>/<scale>/<name>.md or else <resultsDir>/<name>.md, or null. */
function verdictOf(resultsDir: string | undefined, name: string, scale?: string): string | null {
  if (!resultsDir || !/^[A-Za-z0-9._-]+$/.test(name)) return null;
  const atScale = scale && /^[A-Za-z0-9._-]+$/.test(scale) ? path.join(resultsDir, scale, `${name}.md`) : undefined;
  const file = atScale && existsSync(atScale) ? atScale : path.join(resultsDir, `${name}.md`);
  if (!existsSync(file)) return null;
  const match = /^## Verdict\s*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readFileSync(file, 'utf8'));
  return match ? match[1]!.trim() : null;
}

/** What grouping runs into figures reads of a run: a row of the store's listing, or a kept run's summary. */
type FigureRow = Pick<RunListing, 'id' | 'name' | 'scale' | 'problem' | 'testDataset' | 'seed' | 'createdAt'>;
/** A figure as /api/figures lists it before its source and verdict: one experiment at one scale, the newest run of each seed. */
export interface Figure {
  name: string;
  scale: string;
  problem: string;
  testDataset: string;
  seeds: number[];
  runs: string[];
}
const byNameAndScale = (a: Figure, b: Figure) => a.name.localeCompare(b.name, 'en', { numeric: true }) || a.scale.localeCompare(b.scale);

/** Groups runs into figures: one per experiment name and scale, the newest run of each seed. */
function figuresOf(runs: readonly FigureRow[]): Figure[] {
  const groups = new Map<string, FigureRow[]>();
  for (const r of runs) {
    const key = `${r.name}\0${r.scale}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .map((group) => {
      const list = newestPerSeed(group);
      const first = list[0]!;
      return {
        name: first.name,
        scale: first.scale,
        problem: first.problem,
        testDataset: first.testDataset,
        seeds: list.map((r) => r.seed),
        runs: list.map((r) => r.id),
      };
    })
    .sort(byNameAndScale);
}

/** A figure of the data `l2o results` kept in <resultsDir>/data/<name>.json. */
interface KeptFigure extends Figure {
  source: 'kept';
  keptFile: string;
  loaded: LoadedRun[];
}

/**
 * The figures kept in the data/ of the results folders (resultsFolders; all, or the one named), one
 * per scale of each file's runs, and the one-line reasons of files that cannot be read (which do
 * not hide the others). A figure and scale kept in two folders is shown from the first.
 */
function keptFigures(resultsDir: string | undefined, only?: string): { figures: KeptFigure[]; errors: string[] } {
  const figures: KeptFigure[] = [];
  const errors: string[] = [];
  for (const folder of resultsFolders(resultsDir)) {
    const found = keptFiguresIn(folder, only);
    figures.push(...found.figures.filter((f) => !figures.some((g) => g.name === f.name && g.scale === f.scale)));
    errors.push(...found.errors);
  }
  return { figures, errors };
}

function keptFiguresIn(resultsDir: string, only?: string): { figures: KeptFigure[]; errors: string[] } {
  const figures: KeptFigure[] = [];
  const errors: string[] = [];
  // The folder of the kept files, as figure-data.ts lays them out.
  const dir = path.dirname(figureDataPath(resultsDir, 'any'));
  if (!existsSync(dir)) return { figures, errors };
  const names =
    only === undefined
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length))
      : [only];
  for (const name of names.filter((n) => /^[A-Za-z0-9._-]+$/.test(n))) {
    let data;
    try {
      data = readFigureData(resultsDir, name);
    } catch (e) {
      if (!isL2oError(e)) throw e;
      errors.push(`${e.message}${e.hint ? ` ${e.hint}` : ''}`);
      continue;
    }
    if (!data) continue;
    const byId = new Map(data.runs.map((r) => [r.id, r]));
    const rows = data.runs.map(({ id, summary: s }) => ({
      id,
      name,
      scale: s.scale,
      problem: s.problem.id,
      testDataset: s.testDataset.id,
      seed: s.seed,
      createdAt: s.createdAt,
    }));
    for (const f of figuresOf(rows)) {
      figures.push({ ...f, source: 'kept', keptFile: figureDataPath(resultsDir, name), loaded: f.runs.map((id) => byId.get(id)!) });
    }
  }
  return { figures, errors };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** The dashboard's HTTP app (read-only: every route is a GET). */
export function dashboardApp(options: DashboardOptions): { app: Hono; close: () => Promise<void> } {
  const access = new StoreAccess(options.store);
  const webDir = options.webDir ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');
  const app = new Hono();

  app.onError((e, c) => {
    if (e instanceof BadRequest) return c.json({ error: e.message }, e.status);
    if (isL2oError(e)) return c.json({ error: e.message + (e.hint ? ` ${e.hint}` : '') }, 500);
    return c.json({ error: `Internal error: ${e.message.split('\n')[0]}` }, 500);
  });
  app.notFound((c) => c.json({ error: `No such page or endpoint: ${c.req.path}.` }, 404));

  // Every route is read-only: GET (Hono answers HEAD with it), and 405 naming them for any other method.
  const ALLOW = 'GET, HEAD';
  const notAllowed = (c: Context) =>
    c.json({ error: `${c.req.method} is not allowed on ${c.req.path}: the dashboard is read-only (${ALLOW}).` }, 405, { allow: ALLOW });
  const route = <P extends string>(pattern: P, handler: Handler<BlankEnv, P>): void => {
    app.get(pattern, handler);
    app.all(pattern, notAllowed);
  };

  route('/api/runs', async (c) => {
    onlyKnown(c, RUN_QUERY);
    const { filter, sort, order } = runQuery(c.req.query());
    const runs = await access.use((s) => s.listRuns(filter));
    return c.json({ runs: sortRuns(runs, sort, order) });
  });

  route('/api/runs/:id', async (c) => {
    onlyKnown(c, []);
    const id = runId(c.req.param('id'));
    const { record } = await access.use((s) => loadRun(s, id));
    const checkpoints = Object.entries(record.checkpoints).map(([label, text]) => {
      const parsed = JSON.parse(text) as { modelId?: string };
      return { label, modelId: parsed.modelId ?? null };
    });
    return c.json({ id, summary: record.summary, config: record.spec, versions: record.versions, gitCommit: record.gitCommit ?? null, checkpoints });
  });

  route('/api/runs/:id/curves', async (c) => {
    onlyKnown(c, []);
    const id = runId(c.req.param('id'));
    const { curves } = await access.use((s) => loadRun(s, id));
    return c.json({ id, curves });
  });

  // One plot of one run or several side by side (each curve labelled "<run id> · <optimizer>").
  route('/api/plot', async (c) => {
    onlyKnown(c, ['runs']);
    const ids = (c.req.query('runs') ?? '').split(',').filter(Boolean).map(runId);
    if (!ids.length) throw new BadRequest('Give the runs to plot: /api/plot?runs=<id>[,<id>…].');
    if (ids.length > 12) throw new BadRequest(`At most 12 runs in one plot, got ${ids.length}.`);
    const runs = await access.use((s) => Promise.all(ids.map((id) => loadRun(s, id))));
    const curves = runs.flatMap((r) => r.curves.map((curve) => ({ ...curve, optimizer: ids.length > 1 ? `${r.id} · ${curve.optimizer}` : curve.optimizer })));
    const title = ids.length > 1 ? `${ids.length} runs` : `${runs[0]!.summary.name} (${runs[0]!.summary.scale}, seed ${runs[0]!.summary.seed})`;
    return c.json({ runs: ids, spec: convergenceSpec(curves, title) });
  });

  // The store's figures, and the kept ones of experiments and scales the store has no run of.
  route('/api/figures', async (c) => {
    onlyKnown(c, []);
    const stored = figuresOf(await access.use((s) => s.listRuns())).map((f) => ({ ...f, source: 'store' as const }));
    const kept = keptFigures(options.resultsDir);
    const figures = [
      ...stored,
      ...kept.figures.filter((k) => !stored.some((f) => f.name === k.name && f.scale === k.scale)).map(({ loaded: _loaded, ...k }) => k),
    ].sort(byNameAndScale);
    return c.json({
      figures: figures.map((f) => ({ ...f, verdict: verdictOf(options.resultsDir, f.name, f.scale) })),
      ...(kept.errors.length ? { keptErrors: kept.errors } : {}),
    });
  });

  route('/api/figures/:name', async (c) => {
    onlyKnown(c, ['scale']);
    const name = text('figure name', c.req.param('name'));
    const given = c.req.query('scale');
    const scale = given ? text('scale', given) : undefined;
    type Chosen = { chosen: Figure & { source: 'store' | 'kept'; keptFile?: string }; loaded: LoadedRun[]; scales: string[]; description: string | null };
    const figure = await access.use(async (s): Promise<Chosen> => {
      const stored = figuresOf(await s.listRuns({ name }))
        .filter((f) => f.name === name)
        .map((f) => ({ ...f, source: 'store' as const }));
      // Kept data of the scales the store has no run of.
      const kept = keptFigures(options.resultsDir, name);
      const all = [...stored, ...kept.figures.filter((k) => !stored.some((f) => f.scale === k.scale))];
      const chosen = scale ? all.find((f) => f.scale === scale) : (stored[0] ?? all[0]);
      if (!chosen) {
        // A kept file that cannot be read: its one-line reason (500).
        if (kept.errors.length) throw new L2oError(kept.errors[0]!);
        const where = options.resultsDir ? ` or kept in ${path.dirname(figureDataPath(options.resultsDir, name))}` : '';
        throw new BadRequest(`No runs of '${name}'${scale ? ` at scale '${scale}'` : ''} in the store${where}.`, 404);
      }
      const scales = all.map((f) => f.scale).sort((a, b) => a.localeCompare(b));
      if (chosen.source === 'kept') {
        const { loaded, ...listing } = chosen;
        return { chosen: listing, loaded, scales, description: null };
      }
      const loaded = await Promise.all(chosen.runs.map((id) => loadRun(s, id)));
      return {
        chosen,
        loaded,
        scales,
        description: (loaded[0]!.record.spec as { spec?: { description?: string } }).spec?.description ?? null,
      };
    });
    let agg;
    try {
      agg = aggregateSeeds(figure.loaded);
    } catch (e) {
      if (e instanceof L2oError) throw new BadRequest(`The runs of '${name}' cannot be put together: ${e.message}`);
      throw e;
    }
    return c.json({
      ...figure.chosen,
      scales: figure.scales,
      description: figure.description,
      verdict: verdictOf(options.resultsDir, name, figure.chosen.scale),
      spec: seedBandsSpec(agg, seedPlotTitle(agg)),
      table: seedTableMarkdown(agg),
    });
  });

  // Local sweeps (their status files) and queued ones (Redis), each marked with where it runs.
  route('/api/sweeps', async (c) => {
    onlyKnown(c, []);
    const local = options.sweepsDir ? readLocalSweeps(options.sweepsDir).map((s) => ({ ...s, where: 'local' as const })) : [];
    // A queue that cannot be reached does not hide the local sweeps: its one-line reason goes along.
    let queued: (SweepStatus & { where: 'queue' })[] = [];
    let queueError: string | null = null;
    if (options.queue) {
      try {
        queued = (await listSweeps(options.queue)).map((s) => ({ ...s, where: 'queue' as const }));
      } catch (e) {
        if (!isL2oError(e)) throw e;
        queueError = e.message;
      }
    }
    return c.json({
      queue: options.queue ? redactQueue(options.queue) : null,
      sweepsDir: options.sweepsDir ?? null,
      sweeps: [...local, ...queued],
      ...(queueError ? { queueError } : {}),
    });
  });

  route('/api/sweeps/:id', async (c) => {
    onlyKnown(c, []);
    const id = c.req.param('id');
    if (!/^[A-Za-z0-9._-]{1,200}$/.test(id)) throw new BadRequest(`${shown(id)} is not a sweep id.`);
    const local = options.sweepsDir ? readLocalSweeps(options.sweepsDir).find((s) => s.id === id) : undefined;
    if (local) return c.json({ ...local, where: 'local' });
    if (!options.queue) {
      throw new BadRequest(
        `No local sweep '${id}'${options.sweepsDir ? ` in ${options.sweepsDir}` : ''}, and no queue is followed (start the dashboard with --queue redis://… for queued sweeps).`,
        404,
      );
    }
    try {
      return c.json({ ...(await sweepStatus(options.queue, id)), where: 'queue' });
    } catch (e) {
      if (isL2oError(e) && /no sweep/i.test(e.message)) throw new BadRequest(e.message, 404);
      throw e;
    }
  });

  route('/api/checkpoints', async (c) => {
    onlyKnown(c, []);
    return c.json({ checkpoints: await access.use((s) => s.listCheckpoints()) });
  });

  route('/api/checkpoints/:sha256', async (c) => {
    onlyKnown(c, []);
    const sha = c.req.param('sha256');
    if (!SHA256.test(sha)) throw new BadRequest(`${shown(sha)} is not a checkpoint's SHA-256 (64 hex digits).`);
    const text = await access.use((s) => s.getCheckpoint(sha));
    if (text === null) throw new BadRequest(`No checkpoint ${sha} in the store.`, 404);
    return c.body(text, 200, { 'content-type': 'application/json' });
  });

  route('/favicon.ico', (c) => c.body(null, 204));

  // The web app: its few built files, by name (no directory walking).
  const webFile = (c: Context): { name: string; file: string; type: string | undefined } => {
    const name = c.req.param('file') || 'index.html';
    return { name, file: path.join(webDir, name), type: MIME[path.extname(name)] };
  };
  app.get('/:file{[A-Za-z0-9._-]*}', (c) => {
    const { name, file, type } = webFile(c);
    if (!type || !existsSync(file)) return c.json({ error: `No such page or endpoint: /${name}.` }, 404);
    return c.body(readFileSync(file), 200, { 'content-type': type });
  });
  app.all('/:file{[A-Za-z0-9._-]*}', (c) => {
    const { name, file, type } = webFile(c);
    return type && existsSync(file) ? notAllowed(c) : c.json({ error: `No such page or endpoint: /${name}.` }, 404);
  });

  return { app, close: () => access.close() };
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The Host headers this server answers: its loopback names and the address it listens on, with
 * its port; listening on every address (0.0.0.0, ::), also this machine's addresses and name.
 */
function hostsOf(host: string, port: number): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]', host];
  if (WILDCARD.has(host)) {
    names.push(os.hostname());
    for (const a of Object.values(os.networkInterfaces()).flat()) if (a) names.push(a.address);
  }
  const hosts = new Set<string>();
  for (const name of names) {
    const bracketed = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
    hosts.add(`${bracketed.toLowerCase()}:${port}`);
    if (port === 80) hosts.add(bracketed.toLowerCase());
  }
  return hosts;
}

/** Serves the dashboard on host:port (port 0: a free one); resolves once it listens. */
export async function startDashboard(options: DashboardOptions & { host: string; port: number }): Promise<Dashboard> {
  const { app, close } = dashboardApp(options);
  // Against DNS rebinding: a page of another site whose name was pointed at this address sends
  // that name as its Host, and is refused before any route reads the store.
  let hosts = new Set<string>();
  let url = '';
  const guarded = (request: Request, env: unknown): Response | Promise<Response> => {
    const host = request.headers.get('host')?.toLowerCase() ?? '';
    if (hosts.has(host)) return app.fetch(request, env);
    return Response.json({ error: `Host '${host}' is not this dashboard's address: open ${url}.` }, { status: 403 });
  };
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: guarded, hostname: options.host, port: options.port }, () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new L2oError(`Port ${options.port} on ${options.host} is in use.`, 'Choose another with --port, or --port 0 for a free one.')
          : e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'
            ? new L2oError(`Cannot listen on ${options.host}:${options.port} (${e.code}).`, 'Choose a port above 1023 and an address of this machine.')
            : e,
      ),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  hosts = hostsOf(options.host, port);
  url = `http://${WILDCARD.has(options.host) ? '127.0.0.1' : host}:${port}/`;
  return {
    url: `http://${host}:${port}/`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await close();
    },
  };
}
