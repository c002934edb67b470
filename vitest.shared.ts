import os from 'node:os';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// The one test configuration of every package: `vitest run --config ../../vitest.shared.ts` from the
// package's folder (its package.json test script), so `src/` is that package's.
//
// Two suites. `npm test` runs the fast tests; `npm run test:e2e` (L2O_E2E=1, each package's test:e2e
// script) runs only the slow end-to-end files listed here: real trainings and sweeps, many CLI
// processes, browsers, Redis restarts, npm installs. CI runs both. A file is in one suite, never both.
const E2E: Record<string, string[]> = {
  cli: [
    'src/campaign.test.ts', // sweeps stopped and continued from a copied state folder
    'src/dashboard.test.ts', // chromium
    'src/doctor.test.ts',
    'src/examples.test.ts', // every --help example and README/docs line
    'src/experiments.test.ts',
    'src/interrupts.test.ts',
    'src/io-errors.test.ts',
    'src/plugins.test.ts', // scaffolded packages installed and tested
    'src/queue-restart.test.ts', // Redis restarts
    'src/queue-restart-midsweep.test.ts',
    'src/reliability.test.ts',
    'src/results.test.ts',
    'src/runs.test.ts',
    'src/store-errors.test.ts',
    'src/store-server.test.ts',
    'src/sweep.test.ts',
    'src/sweep-estimate.test.ts',
    'src/sweep-rerun.test.ts',
    'src/train-interrupt.test.ts',
  ],
  store: ['src/store-faults.test.ts'], // writer processes killed and racing
};

const pkg = path.basename(process.cwd());
const e2eFiles = E2E[pkg] ?? [];
const e2e = process.env.L2O_E2E === '1';

// Vitest filters by substring: `npm test -w @l2o/cli -- src/sweep.test.ts` would only say "No test
// files found" for a file of the other suite, so name the command that runs it.
const filters = process.argv
  .slice(process.argv.indexOf('run') + 1)
  .filter((arg, i, all) => !arg.startsWith('-') && !(all[i - 1]?.startsWith('--') && !all[i - 1].includes('=')));
const elsewhere = e2eFiles.filter((file) => filters.some((filter) => file.includes(filter.replace(/^\.\//, ''))));
if (!e2e && elsewhere.length > 0) {
  console.warn(`${elsewhere.join(', ')}: end-to-end, left out of npm test; run with: npm run test:e2e -w @l2o/${pkg} -- ${filters.join(' ')}`);
}

export default defineConfig({
  test: {
    include: e2e ? e2eFiles : ['src/**/*.test.ts'],
    exclude: e2e ? configDefaults.exclude : [...configDefaults.exclude, ...e2eFiles],
    // CLI tests run the real binary, training included: minutes, not seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each test file in its own process: tfjs engines and WASM heaps are per process.
    pool: 'forks',
    // End-to-end files spend much of their time waiting on the processes they start (CLI runs,
    // servers, Redis restarts): at least two at a time keep both cores of a 2-core machine busy
    // (the cli suite took 824 s instead of 1,402 s), where Vitest's default, one fewer than the
    // cores, runs one.
    ...(e2e ? { maxWorkers: Math.max(2, os.availableParallelism() - 1) } : {}),
  },
});
