import { Redis } from 'ioredis';
import { L2oError, UsageError } from '@l2o/core';
import type { SweepRequest } from '../plan.js';

/** The BullMQ queue every sweep's jobs go to (workers take jobs of any sweep). */
export const QUEUE_NAME = 'l2o-sweeps';
const SWEEP_KEY = (id: string) => `l2o:sweep:${id}`;
const CANCEL_KEY = (id: string) => `l2o:sweep:${id}:cancelled`;

/** A Redis URL without its password, for messages. */
export function redactQueue(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** BullMQ's connection options for a `redis://host:port[/db]` URL, checked. */
export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--queue ${redactQueue(url)} is not a URL.`, 'Give redis://host:port (or set L2O_QUEUE).');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`--queue ${redactQueue(url)} is not a Redis URL.`, 'Give redis://host:port (or set L2O_QUEUE).');
  }
  return { url, maxRetriesPerRequest: null };
}

/**
 * A plain Redis client for the sweep records, connected, or one clear error: an unreachable
 * Redis fails here, in a few seconds, before any work.
 */
export async function openRedis(url: string): Promise<Redis> {
  connectionOf(url);
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {}); // reported by connect() below
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw new L2oError(
      `Redis at ${redactQueue(url)} is not reachable: ${((e as Error).message || String(e)).split('\n')[0]}.`,
      'Start redis-server there (see the README, "Sweeps"), or give another --queue / L2O_QUEUE.',
    );
  }
  return redis;
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

export async function readSweepRecord(redis: Redis, id: string): Promise<SweepRecord> {
  const text = await redis.get(SWEEP_KEY(id));
  if (!text) throw new L2oError(`No sweep '${id}' on this queue.`, 'Give the id `l2o sweep … --queue` printed, with the same --queue.');
  return JSON.parse(text) as SweepRecord;
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
