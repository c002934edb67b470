import type { PluginRegistrar } from '@l2o/core/portable';
import { Adam, adamOptionFields } from './adam.js';
import { Fista, fistaOptionFields } from './fista.js';
import { Ista, istaOptionFields } from './ista.js';
import { Sgd, sgdOptionFields } from './sgd.js';

export function register(registrar: PluginRegistrar): void {
  registrar.optimizer({ id: 'ista', description: 'proximal gradient, step 1/L', options: istaOptionFields, create: (o) => new Ista(o) });
  registrar.optimizer({ id: 'fista', description: 'accelerated proximal gradient (Beck–Teboulle)', options: fistaOptionFields, create: (o) => new Fista(o) });
  registrar.optimizer({ id: 'sgd', description: 'subgradient descent on F', options: sgdOptionFields, create: (o) => new Sgd(o) });
  registrar.optimizer({ id: 'adam', description: 'Adam on the subgradient of F', options: adamOptionFields, create: (o) => new Adam(o) });
}
