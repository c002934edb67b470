import type { PluginRegistrar } from '@l2o/core/portable';
import { Lasso, lassoOptionFields } from './lasso.js';
import { LogisticL1, logisticL1OptionFields } from './logistic-l1.js';

export function register(registrar: PluginRegistrar): void {
  registrar.problem({ id: 'lasso', description: 'LASSO: ½‖Ax − b‖² + λ‖x‖₁', options: lassoOptionFields, create: (o) => new Lasso(o) });
  registrar.problem({
    id: 'logistic-l1',
    description: 'ℓ1-regularised logistic regression, labels in {0, 1}',
    options: logisticL1OptionFields,
    create: (o) => new LogisticL1(o),
  });
}
