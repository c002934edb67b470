/** Sizes of a tiny spec beyond its name and training steps (the defaults: the sweep and campaign tests' unit of work). */
export interface TinySpecSizes {
  /** Iterations K of a training batch, and the unroll segment they are cut into. */
  iterations?: number;
  unroll?: number;
  /** Iterations of the test set's evaluation. */
  testIterations?: number;
  /** Whether the spec names its training data (`train:`); without, the spec's default. */
  train?: boolean;
}

/** A smoke-scale experiment spec of one tiny lstm training and FISTA on LASSO: the sweep and campaign tests' unit of work. */
export const tinySpec = (
  name: string,
  globalSteps: number,
  { iterations = 10, unroll = 5, testIterations = 20, train = true }: TinySpecSizes = {},
): string => `name: ${name}
problem: { id: lasso }
${train ? 'train: { dataset: synthetic }\n' : ''}test: { dataset: synthetic }
optimizers:
  - { id: lstm }
  - { id: fista }
scales:
  smoke:
    training: { globalSteps: ${globalSteps}, batchSize: 8, iterations: ${iterations}, unroll: ${unroll}, validateEvery: 2, validationSize: 8 }
    test: { count: 8, batchSize: 8, iterations: ${testIterations} }
`;
