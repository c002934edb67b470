import type { Dataset } from './dataset.js';
import type { LearnedOptimizer } from './learned-optimizer.js';
import type { Optimizer } from './optimizer.js';
import type { Problem } from './problem.js';
import type { AnyOptionFields } from '../options/fields.js';
import type { TrainingSession } from '../train/checkpoint.js';

export type PluginKind = 'problem' | 'optimizer' | 'model' | 'dataset' | 'pretrained';

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

/** How a pretrained checkpoint was made, as its package records it. */
export interface PretrainedProvenance {
  /** The problem and training dataset (with the options that set the instance size). */
  problem: string;
  problemOptions: Record<string, unknown>;
  dataset: string;
  datasetOptions: Record<string, unknown>;
  /** The experiment spec (repository path) and scale it was trained by, and its seed. */
  spec: string;
  scale: string;
  seed: number;
  /** The commit and engine that trained it (of its last session, when several made it). */
  commit: string;
  engine: string;
  /**
   * A training that several processes made, one after another (a campaign resumed across
   * sessions and checkouts): each one's global steps, time, commit and engine, in order.
   * Absent for trainings made before sessions were recorded.
   */
  sessions?: TrainingSession[];
  globalSteps: number;
  batchSize: number;
  bestValidation: number;
  bestStep: number;
  trainingSeconds?: number;
}

/**
 * Trained weights of a learned optimizer, found by name: `--model gru-mha --pretrained
 * lasso-20x40` evaluates them with no training. `id` is unique among pretrained entries
 * (conventionally `<model>-<name>`); `name` is unique per model.
 */
export interface PretrainedRegistration {
  id: string;
  description: string;
  /** The model id the checkpoint is for. */
  model: string;
  name: string;
  /** Absolute path of the checkpoint file (format l2o-checkpoint/1). */
  checkpoint: string;
  trainedWith: PretrainedProvenance;
}

export interface RegistrationByKind {
  problem: ProblemRegistration;
  optimizer: OptimizerRegistration;
  model: ModelRegistration;
  dataset: DatasetRegistration;
  pretrained: PretrainedRegistration;
}

/** What a plugin's `register` receives: it adds its factories, the registry notes the package. */
export interface PluginRegistrar {
  problem(r: ProblemRegistration): void;
  optimizer(r: OptimizerRegistration): void;
  model(r: ModelRegistration): void;
  dataset(r: DatasetRegistration): void;
  pretrained(r: PretrainedRegistration): void;
}

/** The module a plugin's package.json `l2o.plugin` field points at. */
export interface PluginModule {
  register(registrar: PluginRegistrar): void | Promise<void>;
}
