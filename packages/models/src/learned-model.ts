/** What every model of this package shares: config, named weights, serialisation. */
import type { LearnedOptimizer, ModelRegistration, OptimizerState, Problem, ProblemBatch, SerializedWeights, StepContext, tf } from '@l2o/core/portable';
import { defaultsOf, type OptionFields } from '@l2o/core/portable';
import { WeightStore } from './weights.js';

export abstract class LearnedModel<S extends OptimizerState> implements LearnedOptimizer<S> {
  readonly learned = true as const;
  readonly options: Readonly<Record<string, unknown>>;
  readonly config: Readonly<Record<string, unknown>>;
  /** The model's weights by logical name (exposed for tools and tests). */
  readonly weights: WeightStore;

  constructor(
    readonly modelId: string,
    userOptions: Record<string, unknown>,
    config: Record<string, unknown>,
    seed: number,
  ) {
    this.options = Object.freeze(structuredClone(userOptions));
    this.config = Object.freeze(structuredClone(config));
    this.weights = new WeightStore(modelId, seed);
  }

  get id(): string {
    return this.modelId;
  }

  abstract init(problem: Problem, batch: ProblemBatch, x0?: tf.Tensor2D): S;
  abstract step(problem: Problem, batch: ProblemBatch, state: S, ctx: StepContext): S;

  variables(): tf.Variable[] {
    return this.weights.variables();
  }

  parameterCount(): number {
    return this.weights.parameterCount();
  }

  getWeights(): SerializedWeights {
    return this.weights.getWeights();
  }

  setWeights(weights: SerializedWeights): void {
    this.weights.setWeights(weights, `model '${this.modelId}' with config ${JSON.stringify(this.config)}`);
  }

  dispose(): void {
    this.weights.dispose();
  }
}

/** The registration of a model resolving its options with `fields`: their defaults are its default config. */
export function modelRegistration<O extends object>(
  id: string,
  description: string,
  fields: OptionFields<O>,
  create: (options: Record<string, unknown>) => LearnedOptimizer,
): ModelRegistration {
  return {
    id,
    description,
    create: (options = {}) => create(options),
    defaultConfig: () => defaultsOf(fields) as unknown as Record<string, unknown>,
    options: fields,
  };
}
