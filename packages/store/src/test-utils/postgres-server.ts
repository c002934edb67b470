import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway PostgreSQL server on 127.0.0.1 for the store's tests: initdb into a temporary
 * folder and pg_ctl on a free port, as the `postgres` user when we are root (PostgreSQL refuses
 * root). Returns null with the reason when no server binaries are installed (Debian:
 * apt-get install -y postgresql).
 */
export async function startPostgres(): Promise<{ url: string; stop: () => void } | { skip: string }> {
  const roots = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => path.join('/usr/lib/postgresql', v, 'bin')) : [];
  const bin = roots.find((b) => existsSync(path.join(b, 'initdb')) && existsSync(path.join(b, 'pg_ctl')));
  if (!bin) return { skip: 'no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)' };
  const asUser: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) return { skip: 'running as root and there is no postgres user to run the server as' };
    asUser.uid = Number(id.stdout.trim());
    asUser.gid = Number(gid.stdout.trim());
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'l2o-pg-'));
  if (asUser.uid !== undefined) chownSync(dir, asUser.uid, asUser.gid!);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const run = (cmd: string, args: string[]) => spawnSync(path.join(bin, cmd), args, { ...asUser, encoding: 'utf8', timeout: 60_000 });
  const init = run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  if (init.status !== 0) return { skip: `initdb failed: ${init.stderr.trim().split('\n').at(-1)}` };
  const start = run('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  if (start.status !== 0) return { skip: `pg_ctl start failed: ${start.stderr.trim().split('\n').at(-1)}` };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
