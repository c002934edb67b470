import { FlowProducer, type FlowJob } from 'bullmq';
import { JOB_ATTEMPTS } from '../local-executor.js';
import { sweepIdOf, type SweepJob, type SweepPlan } from '../plan.js';
import { connectionOf, openRedis, QUEUE_NAME, redactQueue, saveSweepRecord, type SweepRecord } from './connection.js';

/** What a queued job carries: its sweep and the job itself. */
export interface QueuedJob {
  sweepId: string;
  job: SweepJob;
}

/**
 * Submits a sweep to the BullMQ queue at `url` as one flow per run: the run's job waits for its
 * evaluations, each evaluation of a learned optimizer for its training. A failed child does not
 * block its parent (which then fails with the child's reason), so the rest of the sweep goes on.
 * Each submission has its own id; work already in the store is skipped by the workers.
 */
export async function submitSweep(url: string, plan: SweepPlan): Promise<{ id: string; queue: string; jobs: number }> {
  const redis = await openRedis(url);
  const flows = new FlowProducer({ connection: connectionOf(url) });
  try {
    const id = `${sweepIdOf(plan)}-${Date.now().toString(36)}`;
    const byKey = new Map(plan.jobs.map((j) => [j.key, j]));
    const record: SweepRecord = {
      id,
      name: plan.name,
      request: plan.request,
      createdAt: new Date().toISOString(),
      comparisons: plan.comparisons.map((c) => ({ runId: c.runId, seed: c.seed, point: c.point })),
      jobs: [],
    };
    const opts = (jobId: string) => ({
      jobId,
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'fixed', delay: 2000 },
      ignoreDependencyOnFailure: true,
      removeOnComplete: false,
      removeOnFail: false,
    });
    const node = (job: SweepJob, jobId: string, children: FlowJob[] = []): FlowJob => {
      record.jobs.push({ id: jobId, kind: job.kind, key: job.key, ...(job.kind === 'run' ? {} : { label: job.label }), seed: job.comparison.seed });
      return {
        name: job.kind,
        queueName: QUEUE_NAME,
        data: { sweepId: id, job } satisfies QueuedJob,
        opts: opts(jobId),
        ...(children.length ? { children } : {}),
      };
    };
    const tree = plan.comparisons.map((c, i) => {
      const run = byKey.get(c.runId)!;
      if (run.kind !== 'run') throw new Error(`job ${c.runId} is not a run`);
      // A training or evaluation shared by several runs is a child of each (ids differ by the run's index); the
      // second to come finds the first's result in the store.
      const evaluations = run.evaluations.map((key) => {
        const evaluation = byKey.get(key)!;
        const train = evaluation.kind === 'evaluate' && evaluation.train ? byKey.get(evaluation.train) : undefined;
        return node(evaluation, `${id}.${i}.evaluate.${key}`, train ? [node(train, `${id}.${i}.train.${train.key}`)] : []);
      });
      return node(run, `${id}.${i}.run`, evaluations);
    });
    await saveSweepRecord(redis, record);
    await flows.addBulk(tree);
    return { id, queue: redactQueue(url), jobs: record.jobs.length };
  } finally {
    await flows.close();
    redis.disconnect();
  }
}
