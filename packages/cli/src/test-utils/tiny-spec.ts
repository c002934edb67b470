/** A smoke-scale experiment spec of one tiny lstm training and FISTA on LASSO: the sweep and campaign tests' unit of work. */
export const tinySpec = (name: string, globalSteps: number): string => `name: ${name}
problem: { id: lasso }
train: { dataset: synthetic }
test: { dataset: synthetic }
optimizers:
  - { id: lstm }
  - { id: fista }
scales:
  smoke:
    training: { globalSteps: ${globalSteps}, batchSize: 8, iterations: 10, unroll: 5, validateEvery: 2, validationSize: 8 }
    test: { count: 8, batchSize: 8, iterations: 20 }
`;
