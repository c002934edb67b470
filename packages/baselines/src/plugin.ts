import type { PluginRegistrar } from '@l2o/core';
import { Adam } from './adam.js';
import { Fista } from './fista.js';
import { Ista } from './ista.js';
import { Sgd } from './sgd.js';

export function register(registrar: PluginRegistrar): void {
  registrar.optimizer({ id: 'ista', description: 'proximal gradient, step 1/L', create: (o) => new Ista(o) });
  registrar.optimizer({ id: 'fista', description: 'accelerated proximal gradient (Beck–Teboulle)', create: (o) => new Fista(o) });
  registrar.optimizer({ id: 'sgd', description: 'subgradient descent on F', create: (o) => new Sgd(o) });
  registrar.optimizer({ id: 'adam', description: 'Adam on the subgradient of F', create: (o) => new Adam(o) });
}
