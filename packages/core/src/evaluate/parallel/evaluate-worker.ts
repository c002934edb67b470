// Entry of an evaluation worker thread (started by workers.ts from the built dist). It boots its
// own platform (engine + plugin discovery, as the main thread did), then per request rebuilds the
// problem and optimizer from the registry and runs its block of batches exactly as one thread would.
import { parentPort } from 'node:worker_threads';
import { tf } from '../../tf.js';
import { bootPlatform, type Platform } from '../../container.js';
import { silentLogger } from '../../logger.js';
import { L2oError } from '../../errors.js';
import { answerInOrder, type WorkerAnswer, type WorkerNotice } from '../../util/worker-messages.js';
import type { Optimizer } from '../../contracts/optimizer.js';
import type { Problem } from '../../contracts/problem.js';
import { stableStringify } from '../../util/stable-json.js';
import { evaluateBatches } from '../evaluator.js';
import { solveReference } from '../reference.js';
import type { BlockRecipe, FromEvaluationWorker, ToEvaluationWorker } from './protocol.js';

if (!parentPort) throw new Error('evaluate-worker.js runs only as a worker thread (started by the evaluation).');
const port = parentPort;

let platform: Platform | null = null;

/** The problem and optimizer of a request, checked to be the main thread's (another plugin version would give other numbers). */
function build(recipe: BlockRecipe): { problem: Problem; optimizer: Optimizer; dispose: () => void } {
  if (!platform) throw new L2oError('the worker received work before it was started.');
  const { registry } = platform;
  const same = (what: string, mine: unknown, theirs: unknown) => {
    if (stableStringify(mine) !== stableStringify(theirs)) {
      throw new L2oError(
        `it built ${what} with options ${stableStringify(mine)}, the main thread has ${stableStringify(theirs)}.`,
        'The worker found another version of the plugin; check the plugin search paths.',
      );
    }
  };
  const problem = registry.get('problem', recipe.problem.id).create(recipe.problem.options);
  same(`problem '${recipe.problem.id}'`, { ...problem.options }, recipe.problem.options);
  const o = recipe.optimizer;
  if (o.kind === 'optimizer') {
    const optimizer = registry.get('optimizer', o.id).create(o.options);
    same(`optimizer '${o.id}'`, { ...optimizer.options }, o.options);
    return { problem, optimizer, dispose: () => {} };
  }
  const model = registry.get('model', o.id).create(o.options);
  try {
    same(`model '${o.id}'`, { ...model.config }, o.config);
    model.setWeights(o.weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { problem, optimizer: model, dispose: () => model.dispose() };
}

const progress = (done: number) => port.postMessage({ type: 'progress', done } satisfies WorkerNotice);

async function handle(msg: ToEvaluationWorker): Promise<WorkerAnswer<FromEvaluationWorker>> {
  if (msg.type === 'init') {
    const { engine, searchFrom, pluginPaths } = msg.platform;
    platform = await bootPlatform({ backend: engine, searchFrom, pluginPaths, logger: silentLogger });
    return { reply: { type: 'ready', backend: tf.getBackend() } };
  }
  const { problem, optimizer, dispose } = build(msg);
  try {
    if (msg.type === 'evaluate') {
      const { F, accepted } = await evaluateBatches(problem, optimizer, msg.set, { ...msg, onBatch: progress });
      const reply = { type: 'evaluated', F, accepted, numTensors: tf.memory().numTensors } as const;
      return { reply, transfer: [F.buffer as ArrayBuffer, ...(accepted ? [accepted.buffer as ArrayBuffer] : [])] };
    }
    const solution = await solveReference(problem, optimizer, msg.set, { ...msg, onProgress: progress });
    const transfer = [solution.fStar, solution.x, solution.kkt].map((a) => a.buffer as ArrayBuffer);
    return { reply: { type: 'solved', solution, numTensors: tf.memory().numTensors }, transfer };
  } finally {
    dispose();
  }
}

answerInOrder<ToEvaluationWorker, FromEvaluationWorker>(port, handle);
