import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sweepStatus, type SweepStatus } from '@l2o/sweep';
import { RedisProcess, redisServerMissing } from '../../sweep/src/test-utils/redis-server.js';
import { args, expectOneLineError, runCli } from './test-utils/run-cli.js';
import { killSpawned, spawnCli } from './test-utils/spawn-cli.js';

// The queue across Redis restarts, with real processes: an `l2o worker` and `l2o sweep wait` go on
// after their Redis restarts (and say so), a sweep lost with a Redis without persistence is
// reported with the command that resubmits it, and a worker stops on SIGTERM within its grace
// period while its Redis is down. Each test has a redis-server of its own, restarted here.
const missing = redisServerMissing();
if (missing && process.env.L2O_REQUIRE_REDIS) throw new Error(`queue restart tests: ${missing}`);
if (missing) console.warn(`queue restart tests are skipped: ${missing}`);

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-queue-restart-'));
const spec = path.join(temp, 'restart.yaml');
// One evaluation of fista (no training) and the writing of its run: the smallest sweep, seconds.
writeFileSync(
  spec,
  `name: restarttest
problem: { id: lasso }
train: { dataset: synthetic }
test: { dataset: synthetic }
optimizers:
  - { id: fista }
scales:
  smoke:
    training: { globalSteps: 2, batchSize: 4, iterations: 5, unroll: 5, validateEvery: 2, validationSize: 4 }
    test: { count: 4, batchSize: 4, iterations: 5 }
`,
);
// A training of a few minutes: a job still running when the worker is told to stop.
const longSpec = path.join(temp, 'long.yaml');
writeFileSync(
  longSpec,
  `name: longtest
problem: { id: lasso }
train: { dataset: synthetic }
test: { dataset: synthetic }
optimizers:
  - { id: lstm }
scales:
  smoke:
    training: { globalSteps: 100000, batchSize: 4, iterations: 5, unroll: 5, validateEvery: 100000, validationSize: 4 }
    test: { count: 4, batchSize: 4, iterations: 5 }
`,
);

const servers: RedisProcess[] = [];
afterEach(async () => {
  killSpawned();
  for (const r of servers.splice(0)) await r.stop();
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

async function redisFor(name: string, persistent: boolean): Promise<RedisProcess> {
  const dir = path.join(temp, name);
  mkdirSync(dir);
  const redis = await RedisProcess.start(dir, persistent);
  servers.push(redis);
  return redis;
}

function startWorker(name: string, queue: string, grace = 30) {
  return spawnCli(
    args`worker --queue ${queue} --store ${path.join(temp, name, 'store')} --concurrency 1 --grace ${grace} --runs-dir ${path.join(temp, name, 'runs')} --cache-dir ${path.join(temp, name, 'cache')}`,
    {},
  );
}

function submit(queue: string, seeds: string, file = spec): string {
  const r = runCli(args`sweep ${file} --scale smoke --seeds ${seeds} --queue ${queue} --json`);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function finished(queue: string, id: string, timeoutMs: number): Promise<SweepStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await sweepStatus(queue, id);
    if (s.finished) return s;
    if (Date.now() > deadline) throw new Error(`sweep ${id}: not finished; ${JSON.stringify(s.counts)}`);
    await sleep(200);
  }
}

describe.skipIf(missing)('the sweep queue across Redis restarts', () => {
  it('a worker says it lost Redis and got it back, and a job submitted after the restart completes', async () => {
    const redis = await redisFor('worker-restart', true);
    const worker = startWorker('worker-restart', redis.url);
    await worker.waitFor(/^worker .*Ctrl-C to stop$/m, 20_000);
    await redis.restart();

    const id = submit(redis.url, '0');
    const status = await finished(redis.url, id, 20_000);
    expect(status.counts, worker.stderr()).toMatchObject({ completed: 2, failed: 0 });
    expect(worker.stderr()).not.toMatch(/^fail /m);
    expect(worker.stderr()).toMatch(
      /^lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+; reconnecting.*\nreconnected to Redis at redis:\/\/127\.0\.0\.1:\d+$/m,
    );
  });

  it('l2o sweep wait keeps waiting across a restart of a persistent Redis and ends when the sweep does', async () => {
    const redis = await redisFor('wait-persistent', true);
    const id = submit(redis.url, '1');
    const wait = spawnCli(args`sweep wait ${id} --queue ${redis.url}`, {});
    await wait.waitFor(/0 completed, 0 active, 2 waiting, 0 failed/, 15_000);
    await redis.restart();
    await wait.waitFor(/^reconnected to Redis at /m, 15_000);
    expect(wait.stderr()).toMatch(/^lost the connection to Redis at .*; reconnecting/m);

    startWorker('wait-persistent', redis.url);
    expect(await wait.exited(25_000)).toBe(0);
    expect(wait.stdout()).toMatch(/completed/);
    expect(wait.stderr()).toMatch(/^2 completed, 0 active, 0 waiting, 0 failed$/m);
  });

  it('l2o sweep wait and status say that a sweep was lost with a Redis without persistence, and how to resubmit it', async () => {
    const redis = await redisFor('wait-lost', false);
    const id = submit(redis.url, '2,3');
    const wait = spawnCli(args`sweep wait ${id} --queue ${redis.url}`, {});
    await wait.waitFor(/0 completed, 0 active, 4 waiting, 0 failed/, 15_000);
    await redis.restart();

    expect(await wait.exited(15_000)).toBe(1);
    expect(wait.stderr()).toMatch(/^lost the connection to Redis at /m);
    expectOneLineError(
      wait.stderr(),
      new RegExp(
        `^Error: Sweep ${id} was lost with a restart of Redis at ${redis.url}: .*no persistence.*Resubmit it .*: l2o sweep ${spec} --scale smoke --seeds 2,3 --queue ${redis.url};`,
      ),
    );

    // Asked afterwards, with the record gone: lost with the restart (from the id's time), not a wrong id.
    const status = runCli(args`sweep status ${id} --queue ${redis.url}`);
    expect(status.code).toBe(1);
    expectOneLineError(status.stderr, new RegExp(`^Error: Sweep ${id} was lost with a restart of Redis at .*l2o sweep <spec 'restarttest'> --scale smoke`));
    const wrong = runCli(args`sweep status sweep-nothing --queue ${redis.url}`);
    expectOneLineError(wrong.stderr, /^Error: No sweep 'sweep-nothing' on this queue\./);
  });

  it('a worker running a job stops on SIGTERM within its grace period while its Redis is down', async () => {
    const redis = await redisFor('sigterm', true);
    submit(redis.url, '0', longSpec);
    const worker = startWorker('sigterm', redis.url, 3);
    await worker.waitFor(/^start train lstm/m, 20_000);
    await redis.stop();
    await sleep(1000);
    const t0 = Date.now();
    worker.child.kill('SIGTERM');
    // 3 s of grace, and a margin for a loaded machine: the process's own start and end take seconds there.
    expect(await worker.exited(8_000), worker.stderr()).toBe(143);
    expect(Date.now() - t0).toBeLessThan(8_000);
  });
});
