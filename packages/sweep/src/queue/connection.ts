import { Redis } from 'ioredis';
import { L2oError, UsageError } from '@l2o/core';
import type { SweepRequest } from '../plan.js';

/** The BullMQ queue every sweep's jobs go to (workers take jobs of any sweep). */
export const QUEUE_NAME = 'l2o-sweeps';
const SWEEP_KEY = (id: string) => `l2o:sweep:${id}`;
const CANCEL_KEY = (id: string) => `l2o:sweep:${id}:cancelled`;

/** The wait before reconnection attempt `n` (1, 2, …): 0.5 s, doubling up to 10 s. */
export const reconnectDelayMs = (n: number): number => Math.min(500 * 2 ** (n - 1), 10_000);

/** A Redis URL without its password, for messages. */
export function redactQueue(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * BullMQ's connection options for a `redis://host:port[/db]` URL, checked. Its connections
 * reconnect with our backoff (BullMQ's own waits up to 20 s after a few failed attempts).
 */
export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null; retryStrategy: (n: number) => number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--queue ${redactQueue(url)} is not a URL.`, 'Give redis://host:port (or set L2O_QUEUE).');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--queue ${redactQueue(url)} is not a Redis URL.`, 'Give redis://host:port (or set L2O_QUEUE).');
  }
  return { url, maxRetriesPerRequest: null, retryStrategy: reconnectDelayMs };
}

/** What happened to a long-lived Redis connection: lost (reconnecting with backoff), or back. */
export type ConnectionEvent = { kind: 'lost'; queue: string } | { kind: 'reconnected'; queue: string };

/**
 * A plain Redis client for the sweep records, connected, or one clear error: an unreachable
 * Redis fails here, in a few seconds, before any work. With `onConnection` (a worker, `sweep
 * wait`) the client then outlives Redis restarts: it reconnects with backoff for as long as it
 * takes, its commands wait for the reconnection, and `onConnection` hears of each loss and return.
 */
export async function openRedis(url: string, onConnection?: (e: ConnectionEvent) => void): Promise<Redis> {
  connectionOf(url);
  let connected = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 1,
    retryStrategy: (n) => (connected && onConnection ? reconnectDelayMs(n) : null),
  });
  redis.on('error', () => {}); // reported by connect() below, or as a lost connection
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw new L2oError(
      `Redis at ${redactQueue(url)} is not reachable: ${((e as Error).message || String(e)).split('\n')[0]!.replace(/\.$/, '')}.`,
      'Start redis-server there (see docs/sweeps.md), or give another --queue / L2O_QUEUE.',
    );
  }
  connected = true;
  if (onConnection) {
    // Read by ioredis at each reconnection attempt: from now on commands wait, not fail.
    redis.options.maxRetriesPerRequest = null;
    let lost = false;
    // 'reconnecting' and not 'close': a disconnect() of ours closes without reconnecting.
    redis.on('reconnecting', () => {
      if (lost) return;
      lost = true;
      onConnection({ kind: 'lost', queue: redactQueue(url) });
    });
    redis.on('ready', () => {
      if (!lost) return;
      lost = false;
      onConnection({ kind: 'reconnected', queue: redactQueue(url) });
    });
  }
  return redis;
}

/** One line for a ConnectionEvent (the worker and `sweep wait` print it). */
export function connectionEventText(e: ConnectionEvent): string {
  return e.kind === 'lost'
    ? `lost the connection to Redis at ${e.queue}; reconnecting (every ${reconnectDelayMs(99) / 1000} s at most)`
    : `reconnected to Redis at ${e.queue}`;
}

/** What is kept in Redis about a submitted sweep: what it asked for, its runs and its job ids. */
export interface SweepRecord {
  id: string;
  name: string;
  request: SweepRequest;
  createdAt: string;
  comparisons: { runId: string; seed: number; point: Record<string, unknown> }[];
  jobs: { id: string; kind: 'train' | 'evaluate' | 'run'; key: string; label?: string; seed: number }[];
}

export async function saveSweepRecord(redis: Redis, record: SweepRecord): Promise<void> {
  await redis.set(SWEEP_KEY(record.id), JSON.stringify(record));
}

/**
 * A submitted sweep's record. Missing, and the id's submission time (its last part) is before this
 * Redis started: the sweep was lost with a restart of a Redis without persistence, and the error
 * says so and how to resubmit it; otherwise the id is wrong.
 */
export async function readSweepRecord(redis: Redis, id: string, url: string): Promise<SweepRecord> {
  const text = await redis.get(SWEEP_KEY(id));
  if (text) return JSON.parse(text) as SweepRecord;
  const submitted = submittedAtOf(id);
  if (submitted !== null && (await redisStartedAt(redis)) > submitted) throw lostSweepError(id, url);
  throw new L2oError(`No sweep '${id}' on this queue.`, 'Give the id `l2o sweep … --queue` printed, with the same --queue.');
}

/** Whether a sweep's record is still in Redis (not lost with a restart). */
export async function hasSweepRecord(redis: Redis, id: string): Promise<boolean> {
  return (await redis.exists(SWEEP_KEY(id))) === 1;
}

/** When a sweep was submitted, from its id (`sweep-<name>-<scale>-<hash>-<ms in base 36>`, see submitSweep), or null. */
function submittedAtOf(id: string): number | null {
  const m = /^sweep-.+-[0-9a-f]{10}-([0-9a-z]+)$/.exec(id);
  const ms = m ? parseInt(m[1]!, 36) : NaN;
  return Number.isFinite(ms) && ms > Date.UTC(2020, 0) && ms < Date.now() + 86_400_000 ? ms : null;
}

/** When this Redis server started (ms since the epoch), from its uptime. */
async function redisStartedAt(redis: Redis): Promise<number> {
  const uptime = /uptime_in_seconds:(\d+)/.exec(await redis.info('server'));
  return uptime ? Date.now() - Number(uptime[1]) * 1000 : -Infinity;
}

/**
 * The sweep `id` is gone from the queue at `url` because its Redis restarted without keeping its
 * data; the fix is the `l2o sweep` command that submits it again (the exact one when the record
 * was read before the loss; else the spec's name and scale, from the id).
 */
export function lostSweepError(id: string, url: string, request?: SweepRequest): L2oError {
  const named = /^sweep-(.+)-([^-]+)-[0-9a-f]{10}-[0-9a-z]+$/.exec(id);
  const command = request
    ? resubmitCommand(request, url)
    : `l2o sweep <spec${named ? ` '${named[1]}'` : ''}> --scale ${named ? named[2] : '<scale>'} --seeds … --queue ${redactQueue(url)}`;
  return new L2oError(
    `Sweep ${id} was lost with a restart of Redis at ${redactQueue(url)}: that Redis keeps no data across restarts (no persistence).`,
    `Resubmit it (work already in the store is not done again): ${command}; and run Redis with persistence (redis-server --appendonly yes).`,
  );
}

/** The `l2o sweep` command line that submits `request` to the queue at `url` (password redacted), quoted for a POSIX shell. */
export function resubmitCommand(request: SweepRequest, url: string): string {
  const words = ['l2o', 'sweep', request.spec, '--scale', request.scale];
  if (request.seeds.length) words.push('--seeds', request.seeds.join(','));
  for (const axis of request.grid)
    words.push('--grid', `${axis.target}.${axis.key}=${axis.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',')}`);
  words.push('--queue', redactQueue(url));
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Every sweep submitted to this queue, newest first. */
export async function listSweepRecords(redis: Redis): Promise<SweepRecord[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', SWEEP_KEY('*'), 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  // A sweep's id has no ':' (sweepIdOf); its cancel flag's key has one more part.
  const records = keys.filter((k) => !k.slice(SWEEP_KEY('').length).includes(':'));
  const texts = records.length ? await redis.mget(records) : [];
  return texts.flatMap((t) => (t ? [JSON.parse(t) as SweepRecord] : [])).sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export async function markCancelled(redis: Redis, id: string): Promise<void> {
  await redis.set(CANCEL_KEY(id), new Date().toISOString());
}

export async function isCancelled(redis: Redis, id: string): Promise<boolean> {
  return (await redis.exists(CANCEL_KEY(id))) === 1;
}

/** JSON that keeps NaN and ±Infinity (a diverged curve holds them), for results kept in the store. */
export function encodeResult(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

export function decodeResult<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$number') return Number((v as { $number: string }).$number);
    }
    return v;
  }) as T;
}
