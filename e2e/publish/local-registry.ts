import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface LocalRegistry {
  url: string;
  /** A publish token of a user created on start. */
  token: string;
  /** Everything verdaccio printed, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

/** A free TCP port on the loopback interface (verdaccio needs a fixed one). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const config = (upstream: string) => `storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: 10
uplinks:
  npmjs:
    url: ${upstream}
    timeout: 60s
packages:
  # Our packages come only from what the test publishes, never from the public registry.
  '@l2o/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    proxy: npmjs
log: { type: stdout, format: pretty, level: warn }
`;

/**
 * Starts verdaccio (the repository's pinned dev dependency) on 127.0.0.1, storage in `dir`,
 * proxying `upstream` (the registry npm is configured with) for everything but @l2o/*.
 */
export async function startLocalRegistry(dir: string, upstream: string): Promise<LocalRegistry> {
  const require = createRequire(import.meta.url);
  const bin = path.join(path.dirname(require.resolve('verdaccio/package.json')), 'bin', 'verdaccio');
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(configFile, config(upstream.endsWith('/') ? upstream : `${upstream}/`));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [bin, '-c', configFile, '-l', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`verdaccio did not answer on ${url} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  // The CouchDB user endpoint npm's `adduser` uses: creates the user and returns a token.
  const response = await fetch(`${url}-/user/org.couchdb.user:l2o-ci`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'l2o-ci', password: 'local-registry-only' }),
  });
  const body = (await response.json()) as { token?: string };
  if (!response.ok || !body.token) {
    await stop();
    throw new Error(`verdaccio refused to create a user (${response.status}): ${JSON.stringify(body)}`);
  }
  return { url, token: body.token, log: () => output, stop };
}
