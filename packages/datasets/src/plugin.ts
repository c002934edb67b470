import type { PluginRegistrar } from '@l2o/core';
import { createSyntheticDataset } from './synthetic.js';
import { createBsds500Dataset } from './bsds500/bsds500.js';
import { createUciDataset } from './uci/uci.js';

export function register(registrar: PluginRegistrar): void {
  registrar.dataset({
    id: 'synthetic',
    description: 'random LASSO (A N(0,1) unit columns, s-sparse x*, b = Ax*) and logistic (b = 1[Ax* ≥ 0]) instances',
    serves: ['lasso', 'logistic-l1'],
    create: (o) => createSyntheticDataset(o),
  });
  registrar.dataset({ id: 'bsds500', description: 'BSDS500 8×8 patches over a K-SVD dictionary (LASSO)', serves: ['lasso'], create: () => createBsds500Dataset() });
  registrar.dataset({ id: 'ionosphere', description: 'UCI Ionosphere, one logistic-l1 instance', serves: ['logistic-l1'], create: () => createUciDataset('ionosphere') });
  registrar.dataset({ id: 'spambase', description: 'UCI Spambase, one logistic-l1 instance', serves: ['logistic-l1'], create: () => createUciDataset('spambase') });
}
