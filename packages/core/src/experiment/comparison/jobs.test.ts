import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyComparison, tinyPlatform } from '../../test-utils/tiny.js';
import type { ComparisonEvent } from './jobs.js';
import { evaluateComparisonOptimizer } from './jobs.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'l2o-jobs-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('an evaluation job', () => {
  it('interrupted, keeps its finished batches in the cache; the same job continues after them to the uninterrupted curve', async () => {
    // 8 instances in batches of 2: four batches.
    const spec = { ...tinyComparison('resume', 0), test: { count: 8, batchSize: 2, iterations: 5 } };
    const whole = await evaluateComparisonOptimizer(await tinyPlatform(path.join(temp, 'whole')), spec, 'ista');

    const dir = path.join(temp, 'interrupted');
    const platform = await tinyPlatform(dir);
    const stop = new AbortController();
    const onEvent = (e: ComparisonEvent) => e.kind === 'evaluate' && e.done >= 4 && stop.abort('SIGINT');
    await expect(evaluateComparisonOptimizer(platform, spec, 'ista', onEvent, stop.signal)).rejects.toThrow(
      "Interrupted by SIGINT while evaluating 'ista' (4 of 8 test instances done); no run was written.",
    );
    const kept = path.join(dir, 'cache', 'evaluations');
    expect(readdirSync(kept).filter((f) => f.endsWith('.partial.json'))).toHaveLength(1);

    const done: number[] = [];
    const resumed = await evaluateComparisonOptimizer(await tinyPlatform(dir), spec, 'ista', (e) => e.kind === 'evaluate' && done.push(e.done));
    expect(done).toEqual([4, 6, 8]);
    expect({ ...resumed.curve, seconds: 0 }).toEqual({ ...whole.curve, seconds: 0 });
    // Finished: nothing kept for it any more.
    expect(existsSync(kept) ? readdirSync(kept) : []).toEqual([]);
  });
});
