// Entry of a sweep job process (started by child.ts): boots a platform like its parent's, runs one
// training or evaluation job, reports progress and its result, and exits.
import { bootPlatform, evaluateComparisonOptimizer, isL2oError, stderrLogger, silentLogger, trainComparisonOptimizer, type ComparisonEvent } from '@l2o/core';
import type { FromChild, JobProgress, ToChild } from './child.js';

if (!process.send) throw new Error('job-process.js runs only as a child process of a sweep.');

const stop = new AbortController();
const send = (m: FromChild, then?: () => void) => process.send!(m, undefined, {}, () => then?.());
// The parent's stop message, or a signal from the terminal: stop at the next safe point.
process.on('SIGINT', () => stop.abort('SIGINT'));
process.on('SIGTERM', () => stop.abort('SIGTERM'));
// The parent died (a killed worker): nothing would receive the result.
process.on('disconnect', () => process.exit(1));

let last = 0;
function progressOf(e: ComparisonEvent): JobProgress | null {
  if (e.kind === 'test-set') return { phase: 'test-set', done: e.done, total: e.total };
  if (e.kind === 'train') return { phase: 'train', done: e.progress.step + 1, total: e.progress.totalSteps, validation: e.progress.bestValidation };
  if (e.kind === 'evaluate') return { phase: 'evaluate', done: e.done, total: e.total };
  return null;
}

process.on('message', (m: ToChild) => {
  if (m.type === 'stop') return stop.abort(m.signal ?? 'SIGINT');
  const { job, platform: p } = m;
  void (async () => {
    try {
      const platform = await bootPlatform({
        backend: p.engine,
        searchFrom: p.searchFrom,
        pluginPaths: p.pluginPaths,
        dataDir: p.dataDir,
        cacheDir: p.cacheDir,
        allowDownload: p.allowDownload,
        gitCommit: p.gitCommit,
        logger: { info: silentLogger.info, warn: stderrLogger.warn },
      });
      const onEvent = (e: ComparisonEvent) => {
        const progress = progressOf(e);
        // At most five messages a second, and every validation.
        const now = Date.now();
        if (progress && (now - last > 200 || (e.kind === 'train' && e.progress.event === 'validation'))) {
          last = now;
          send({ type: 'progress', progress });
        }
      };
      const value =
        job.kind === 'train'
          ? await trainComparisonOptimizer(platform, job.comparison, job.label, onEvent, stop.signal)
          : await evaluateComparisonOptimizer(platform, job.comparison, job.label, onEvent, stop.signal);
      send({ type: 'result', value }, () => process.exit(0));
    } catch (e) {
      const message = isL2oError(e) ? e.message : `${(e as Error).message?.split('\n')[0] ?? String(e)} (unexpected)`;
      send({ type: 'error', message, hint: isL2oError(e) ? e.hint : undefined, exitCode: isL2oError(e) ? e.exitCode : 1 }, () => process.exit(1));
    }
  })();
});
