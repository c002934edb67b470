import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * A Redis for the sweep tests, on 127.0.0.1 with persistence off: the one `.ci/run` started
 * (L2O_TEST_REDIS), else a redis-server started here on a free port; or the reason there is
 * none (Debian: apt-get install -y redis-server). Each caller gets a database of its own, empty.
 */
export async function redisForTests(): Promise<{ url: string; stop: () => Promise<void> } | { skip: string }> {
  const given = process.env.L2O_TEST_REDIS;
  if (given) {
    // Databases 1–15 in turn across every test process (a counter in database 0): test files that
    // run at the same time never share one (a random pick collided one time in 15).
    const base = given.replace(/\/\d*$/, '');
    const counter = new Redis(`${base}/0`, { maxRetriesPerRequest: 1 });
    const n = await counter.incr('l2o:test-database');
    counter.disconnect();
    const url = `${base}/${1 + ((n - 1) % 15)}`;
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    return {
      url,
      stop: async () => {
        await redis.flushdb();
        redis.disconnect();
      },
    };
  }
  if (spawnSync('redis-server', ['--version']).status !== 0) return { skip: 'no redis-server on PATH (apt-get install -y redis-server)' };
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      await redis.ping();
      break;
    } catch (e) {
      if (i > 50) return { skip: `redis-server did not answer on port ${port}: ${(e as Error).message}` };
      await sleep(100);
    }
  }
  redis.disconnect();
  return {
    url,
    stop: async () => {
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
    },
  };
}

/**
 * A redis-server of a test's own, on 127.0.0.1 and a free port, keeping its data in `dir`: with
 * `persistent`, in an append-only file (so a restart keeps the queue); else nowhere. `restart()`
 * stops it as a clean shutdown does (SIGTERM) and starts it again on the same port.
 */
export class RedisProcess {
  private server: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persistent: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dir: string, persistent: boolean): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), dir, persistent);
    await redis.startServer();
    return redis;
  }

  async startServer(): Promise<void> {
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const server = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence], {
      stdio: 'ignore',
    });
    this.server = server;
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => {});
    for (let i = 0; ; i++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch (e) {
        if (i > 100 || server.exitCode !== null) throw new Error(`redis-server did not answer on port ${this.port}: ${(e as Error).message}`, { cause: e });
        await sleep(100);
      }
    }
  }

  /** Stops it: SIGTERM, Redis's clean shutdown (which writes its data first when persistent). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startServer();
  }
}

/** Whether this machine can run a redis-server of a test's own (else the reason). */
export function redisServerMissing(): string | null {
  return spawnSync('redis-server', ['--version']).status === 0 ? null : 'no redis-server on PATH (apt-get install -y redis-server)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
