// What the platform's worker threads (training segments, evaluation blocks) and the main thread
// say to each other besides their own requests and answers.
import type { MessagePort } from 'node:worker_threads';
import { isL2oError } from '../errors.js';

/** What every worker may send besides its answers: a failure, or progress within a request. */
export type WorkerNotice = { type: 'error'; message: string } | { type: 'progress'; done: number };

/** An error's first line: a worker's failure is reported as one line. */
export const firstLine = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0]!;

/** A worker's answer to one request, and the buffers it hands over instead of copying. */
export interface WorkerAnswer<R> {
  reply: R;
  transfer?: ArrayBuffer[];
}

/**
 * Answers a worker thread's requests one at a time, in order (the main thread also waits for each
 * answer before its next request). A failure is answered with an error notice: the error's one
 * line (an L2oError's message and hint), which the main thread raises.
 */
export function answerInOrder<Q, R>(port: MessagePort, handle: (request: Q) => Promise<WorkerAnswer<R>>): void {
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: Q) => {
    queue = queue.then(async () => {
      try {
        const { reply, transfer } = await handle(request);
        port.postMessage(reply, transfer ?? []);
      } catch (e) {
        const message = isL2oError(e) && typeof e.oneLine === 'function' ? e.oneLine() : firstLine(e);
        port.postMessage({ type: 'error', message } satisfies WorkerNotice);
      }
    });
  });
}
