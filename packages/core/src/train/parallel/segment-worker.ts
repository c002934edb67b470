// Entry of a training worker thread (started by worker-pool.ts from the built dist). It boots
// its own platform (engine + plugin discovery, as the main thread did), rebuilds the model and
// problem, keeps its shard of the batch with the iterates/recurrent states between segments,
// and answers each segment with its weighted loss and gradient sums.
import { parentPort } from 'node:worker_threads';
import { tf } from '../../tf.js';
import { bootPlatform } from '../../container.js';
import { silentLogger } from '../../logger.js';
import { L2oError } from '../../errors.js';
import { answerInOrder, type WorkerAnswer } from '../../util/worker-messages.js';
import { Rng } from '../../random/rng.js';
import { disposeState } from '../../evaluate/state.js';
import type { LearnedOptimizer } from '../../contracts/learned-optimizer.js';
import type { Problem } from '../../contracts/problem.js';
import { runSegment, type SegmentPart } from '../segment.js';
import type { FromWorker, ToWorker, WorkerRecipe } from './protocol.js';

if (!parentPort) throw new Error('segment-worker.js runs only as a worker thread (started by the trainer).');
const port = parentPort;

let built: { model: LearnedOptimizer; problem: Problem } | null = null;
let parts: SegmentPart[] = [];
let rng: Rng | undefined;

function current(): { model: LearnedOptimizer; problem: Problem } {
  if (!built) throw new L2oError('the worker received work before its model was built.');
  return built;
}

async function init(recipe: WorkerRecipe): Promise<FromWorker> {
  const { platform } = recipe;
  const { registry } = await bootPlatform({
    backend: platform.engine,
    searchFrom: platform.searchFrom,
    pluginPaths: platform.pluginPaths,
    logger: silentLogger,
  });
  const problem = registry.get('problem', recipe.problem.id).create(recipe.problem.options);
  const model = registry.get('model', recipe.model.id).create(recipe.model.config);
  const shapes = JSON.stringify(model.variables().map((v) => v.shape));
  if (shapes !== JSON.stringify(recipe.shapes)) {
    model.dispose();
    throw new L2oError(
      `it built model '${recipe.model.id}' with weight shapes ${shapes}, the main thread has ${JSON.stringify(recipe.shapes)}.`,
      'The worker found another version of the plugin; check the plugin search paths.',
    );
  }
  built = { model, problem };
  return { type: 'ready', backend: tf.getBackend() };
}

function release(): void {
  const { problem } = current();
  for (const part of parts) {
    disposeState(part.state);
    problem.disposeBatch(part.batch);
  }
  parts = [];
}

async function handle(msg: ToWorker): Promise<WorkerAnswer<FromWorker>> {
  switch (msg.type) {
    case 'init':
      return { reply: await init(msg.recipe) };
    case 'batch': {
      const { model, problem } = current();
      release();
      for (const { set, weight } of msg.parts) {
        const batch = problem.toBatch(set);
        parts.push({ batch, weight, state: tf.tidy(() => model.init(problem, batch)) });
      }
      rng = msg.rng ? Rng.fromState(msg.rng) : undefined;
      return { reply: { type: 'done', numTensors: tf.memory().numTensors } };
    }
    case 'restart': {
      const { model, problem } = current();
      for (const part of parts) {
        disposeState(part.state);
        part.state = tf.tidy(() => model.init(problem, part.batch));
      }
      return { reply: { type: 'done', numTensors: tf.memory().numTensors } };
    }
    case 'segment': {
      const { model, problem } = current();
      const variables = model.variables();
      tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(msg.weights[i]!, v.shape))));
      const { loss, grads } = await runSegment(model, problem, parts, msg.k0, msg.unroll, rng);
      // Copies: a backend may hand out its own storage, which must not be transferred away.
      const arrays = await Promise.all(variables.map(async (v) => new Float32Array((await grads[v.name]!.data()) as Float32Array)));
      tf.dispose(grads);
      return { reply: { type: 'segment', loss, grads: arrays, numTensors: tf.memory().numTensors }, transfer: arrays.map((a) => a.buffer) };
    }
    case 'release':
      release();
      return { reply: { type: 'done', numTensors: tf.memory().numTensors } };
  }
}

answerInOrder<ToWorker, FromWorker>(port, handle);
