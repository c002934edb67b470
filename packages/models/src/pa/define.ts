import type { ModelRegistration } from '@l2o/core/portable';
import { defaultsOf, resolveOptions, type OptionFields } from '@l2o/core/portable';
import type { PaModelDefinition } from './backbone.js';
import { PaOptimizer, paOptionFields, type PaOptions } from './pa-optimizer.js';

/**
 * Turns a backbone definition into a model registration: the backbone's options plus the PA
 * options, resolved with defaults; the PA heads and update are shared. A third-party plugin
 * registers a new PA-family optimizer with `registrar.model(definePaModel({...}))`.
 */
export function definePaModel<O extends object>(definition: PaModelDefinition<O>): ModelRegistration {
  const fields = { ...definition.options, ...paOptionFields } as OptionFields<O & PaOptions>;
  return {
    id: definition.id,
    description: definition.description,
    options: fields,
    create(options = {}) {
      const config = resolveOptions({ kind: 'model', id: definition.id }, fields, options);
      return new PaOptimizer<O>(definition.id, options, config, (weights, backboneOptions) => definition.backbone(weights, backboneOptions));
    },
    defaultConfig: () => defaultsOf(fields) as Record<string, unknown>,
  };
}
