import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../store/src/test-utils/postgres-server.js';
import { args, runCli } from './test-utils/run-cli.js';

// `l2o run` then `l2o runs list`, as a user does, against both kinds of store: an embedded one in
// a fresh folder (no server) and a PostgreSQL server given by L2O_STORE=postgres://….
const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-store-server-'));
const server = await startPostgres();
if ('skip' in server) {
  // CI sets L2O_REQUIRE_POSTGRES: there the server half must run.
  if (process.env.L2O_REQUIRE_POSTGRES) throw new Error(`store server tests: no PostgreSQL server could be started: ${server.skip}`);
  console.warn(`store server tests: the PostgreSQL server half is skipped: ${server.skip}`);
}
afterAll(() => {
  if ('stop' in server) server.stop();
  rmSync(temp, { recursive: true, force: true });
});

const stores: [string, string, boolean][] = [
  ['an embedded store in a new folder', path.join(temp, 'embedded'), true],
  ['a PostgreSQL server (L2O_STORE=postgres://…)', 'url' in server ? server.url : '', 'url' in server],
];

describe.each(stores)('l2o run, then l2o runs list --model gru-mha, with %s', (_name, store, available) => {
  it.runIf(available)(
    'finds the run, with its optimizer and final gap',
    () => {
      const runs = path.join(temp, `runs-${available ? path.basename(store) : 'none'}`);
      const env = { L2O_STORE: store };
      const r = runCli(
        args`run --model gru-mha --problem lasso --scale smoke --steps 2 --against none --runs-dir ${runs} --cache-dir ${path.join(temp, 'cache')} --json`,
        {
          env,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { runDir: string; stored: { id: string } | null; summary: { optimizers: { label: string; finalGap: number }[] } };
      expect(result.stored?.id).toBe(path.basename(result.runDir));
      const list = runCli(['runs', 'list', '--model', 'gru-mha', '--json'], { env });
      expect(list.code, list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as { id: string; optimizers: { label: string; finalGap: number | null }[] }[];
      expect(listed.map((run) => run.id)).toEqual([result.stored!.id]);
      expect(listed[0]!.optimizers).toEqual([expect.objectContaining({ label: 'gru-mha', finalGap: result.summary.optimizers[0]!.finalGap })]);
      // Another model's filter does not find it.
      expect(JSON.parse(runCli(['runs', 'list', '--model', 'lstm', '--json'], { env }).stdout)).toEqual([]);
    },
    300_000,
  );

  it.runIf(available)(
    'l2o train stores its checkpoint; l2o runs trainings lists it',
    () => {
      const env = { L2O_STORE: store };
      const out = path.join(temp, `gru-${path.basename(store)}.json`);
      const r = runCli(args`train --model gru --problem lasso --scale smoke --steps 2 --out ${out} --json`, { env });
      expect(r.code, r.stderr).toBe(0);
      const trained = JSON.parse(r.stdout) as { stored: { id: string } | null; best: { loss: number } };
      expect(trained.stored?.id).toMatch(/^train-gru-[0-9a-f]{12}$/);
      const list = runCli(['runs', 'trainings', '--model', 'gru', '--json'], { env });
      expect(list.code, list.stderr).toBe(0);
      const listed = JSON.parse(list.stdout) as { id: string; bestLoss: number; globalSteps: number }[];
      expect(listed).toEqual([expect.objectContaining({ id: trained.stored!.id, bestLoss: trained.best.loss, globalSteps: 2 })]);
    },
    300_000,
  );
});
