/**
 * Named trainable weights of one model instance.
 *
 * Each weight has a stable logical name (PyTorch state-dict style, e.g.
 * `backbone.rnn.weight_ih_l0`), which is what checkpoints store, and a tfjs variable whose name
 * adds the model id and an instance number (`gru#3/backbone.rnn.weight_ih_l0`) so that several
 * instances of a model live in one engine. Initial values come from the platform RNG — one
 * stream per weight, `Rng.stream(seed, logicalName)` — so a seed gives the same weights on every
 * engine, and adding a weight to a model does not change the others.
 */
import { L2oError, Rng, tf } from '@l2o/core/portable';
import type { SerializedWeights } from '@l2o/core/portable';

/** How a weight starts: PyTorch-like uniform(−bound, bound), or a constant. */
export type Initializer = { kind: 'uniform'; bound: number } | { kind: 'constant'; value: number };

export const uniform = (bound: number): Initializer => ({ kind: 'uniform', bound });
export const constant = (value: number): Initializer => ({ kind: 'constant', value });

/** What layers receive to create their weights; `scope` prefixes names (`scope('rnn')` → `rnn.*`). */
export interface WeightFactory {
  create(name: string, shape: readonly number[], init: Initializer): tf.Variable;
  scope(prefix: string): WeightFactory;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const showShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

let instances = 0;

interface Entry {
  name: string;
  shape: number[];
  variable: tf.Variable;
}

export class WeightStore implements WeightFactory {
  private readonly entries: Entry[] = [];
  private readonly instance = ++instances;
  private disposed = false;

  constructor(
    readonly modelId: string,
    readonly seed: number,
  ) {}

  create(name: string, shape: readonly number[], init: Initializer): tf.Variable {
    if (this.disposed) throw new L2oError(`Model '${this.modelId}' has been disposed.`);
    if (this.entries.some((e) => e.name === name)) {
      throw new L2oError(`Model '${this.modelId}' defines the weight '${name}' twice.`, 'Give each layer its own scope.');
    }
    const values = new Float32Array(sizeOf(shape));
    if (init.kind === 'constant') values.fill(init.value);
    else {
      const rng = Rng.stream(this.seed, name);
      for (let i = 0; i < values.length; i++) values[i] = init.bound * (2 * rng.uniform() - 1);
    }
    const initial = tf.tensor(values, [...shape]);
    const variable = tf.variable(initial, true, `${this.modelId}#${this.instance}/${name}`);
    initial.dispose();
    this.entries.push({ name, shape: [...shape], variable });
    return variable;
  }

  scope(prefix: string): WeightFactory {
    return {
      create: (name, shape, init) => this.create(`${prefix}.${name}`, shape, init),
      scope: (inner) => this.scope(`${prefix}.${inner}`),
    };
  }

  /** Logical names, in creation order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  variables(): tf.Variable[] {
    return this.entries.map((e) => e.variable);
  }

  /** The variable of a logical name (for tests and tools). */
  get(name: string): tf.Variable {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new L2oError(`Model '${this.modelId}' has no weight '${name}'.`, `Its weights: ${this.names().join(', ')}.`);
    return entry.variable;
  }

  parameterCount(): number {
    return this.entries.reduce((sum, e) => sum + e.variable.size, 0);
  }

  getWeights(): SerializedWeights {
    const out: SerializedWeights = {};
    for (const e of this.entries) out[e.name] = { shape: [...e.shape], data: Array.from(e.variable.dataSync()) };
    return out;
  }

  /**
   * Assigns every weight, or none: all names and shapes are checked first. `describe` names the
   * model and its config in the error (how a checkpoint of another config is told apart).
   */
  setWeights(weights: SerializedWeights, describe: string): void {
    if (weights === null || typeof weights !== 'object') throw new L2oError(`The weights for ${describe} are not an object.`);
    const problems: string[] = [];
    for (const e of this.entries) {
      const w = weights[e.name];
      if (!w) {
        problems.push(`weight '${e.name}' (expected shape ${showShape(e.shape)}) is missing`);
        continue;
      }
      if (!Array.isArray(w.shape) || w.shape.length !== e.shape.length || w.shape.some((d, i) => d !== e.shape[i])) {
        problems.push(`weight '${e.name}' has shape ${Array.isArray(w.shape) ? showShape(w.shape) : String(w.shape)}, expected ${showShape(e.shape)}`);
        continue;
      }
      const n = sizeOf(e.shape);
      if (!Array.isArray(w.data) || w.data.length !== n) {
        problems.push(`weight '${e.name}' has ${Array.isArray(w.data) ? w.data.length : 'no'} values, expected ${n}`);
        continue;
      }
      if (w.data.some((v) => typeof v !== 'number' || !Number.isFinite(v))) problems.push(`weight '${e.name}' holds a non-finite value`);
    }
    const ours = new Set(this.names());
    const extra = Object.keys(weights).filter((k) => !ours.has(k));
    for (const name of extra) problems.push(`weight '${name}' ${showShape(weights[name]?.shape ?? [])} is not part of this model`);
    if (problems.length > 0) {
      const shown = problems.slice(0, 8).join('; ') + (problems.length > 8 ? `; and ${problems.length - 8} more` : '');
      throw new L2oError(
        `The weights do not fit ${describe}: ${shown}.`,
        'They were saved from another model or another config (hidden size, layers, heads); create the model with the options the weights were saved with.',
      );
    }
    for (const e of this.entries) {
      const value = tf.tensor(weights[e.name]!.data, e.shape);
      e.variable.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    for (const e of this.entries) e.variable.dispose();
    this.disposed = true;
  }
}
