import type { PluginRegistrar } from '@l2o/core';
import { createSyntheticDataset } from './synthetic.js';

export function register(registrar: PluginRegistrar): void {
  registrar.dataset({
    id: 'synthetic',
    description: 'random LASSO (A N(0,1) unit columns, s-sparse x*, b = Ax*) and logistic (b = 1[Ax* ≥ 0]) instances',
    serves: ['lasso', 'logistic-l1'],
    create: (o) => createSyntheticDataset(o),
  });
}
