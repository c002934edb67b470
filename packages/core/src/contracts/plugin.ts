import type { Dataset } from './dataset.js';
import type { LearnedOptimizer } from './learned-optimizer.js';
import type { Optimizer } from './optimizer.js';
import type { Problem } from './problem.js';
import type { AnyOptionFields } from '../options/fields.js';

export type PluginKind = 'problem' | 'optimizer' | 'model' | 'dataset';

interface Registration<T> {
  id: string;
  description: string;
  /**
   * The options `create` accepts, declared once (`intOption`, `enumOption`, … from @l2o/core):
   * `create` resolves its options with them (`resolveOptions`), and the listings
   * (`l2o plugins --options`, `l2o models --json`) show their names, defaults and descriptions.
   */
  options?: AnyOptionFields;
  /** Builds an instance from user options (unknown keys are an error the factory raises). */
  create(options?: Record<string, unknown>): T;
}

export type ProblemRegistration = Registration<Problem>;
/** A hand-designed optimizer. */
export type OptimizerRegistration = Registration<Optimizer>;
export interface ModelRegistration extends Registration<LearnedOptimizer> {
  /** The config a model gets with no options, for listings and checkpoints. */
  defaultConfig(): Record<string, unknown>;
}
export interface DatasetRegistration extends Registration<Dataset> {
  serves: readonly string[];
}

export interface RegistrationByKind {
  problem: ProblemRegistration;
  optimizer: OptimizerRegistration;
  model: ModelRegistration;
  dataset: DatasetRegistration;
}

/** What a plugin's `register` receives: it adds its factories, the registry notes the package. */
export interface PluginRegistrar {
  problem(r: ProblemRegistration): void;
  optimizer(r: OptimizerRegistration): void;
  model(r: ModelRegistration): void;
  dataset(r: DatasetRegistration): void;
}

/** The module a plugin's package.json `l2o.plugin` field points at. */
export interface PluginModule {
  register(registrar: PluginRegistrar): void | Promise<void>;
}
