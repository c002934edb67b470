export { PaOptimizer, paOptionFields, PA_STEP_FACTOR, type PaOptions, type PaState, type PaNormalisation } from './pa/pa-optimizer.js';
export type { Backbone, BackboneState, BackboneContext, PaModelDefinition } from './pa/backbone.js';
export { definePaModel } from './pa/define.js';
export { lstmModel, lstmBackbone, type LstmBackboneOptions } from './backbones/lstm.js';
export { gruModel, gruBackbone, type GruBackboneOptions } from './backbones/gru.js';
export { gruMhaModel, gruMhaBackbone, type GruMhaOptions, type AttentionAxis } from './backbones/gru-mha.js';
export { L2oDm, l2oDmRegistration, type L2oDmOptions } from './l2o-dm.js';
export { RnnProp, rnnPropRegistration, type RnnPropOptions } from './rnnprop.js';
export * from './layers/index.js';
export { LearnedModel } from './learned-model.js';
export { WeightStore, uniform, constant, type WeightFactory, type Initializer } from './weights.js';
// The option fields are core's (one option system for every plugin kind), re-exported for model authors.
export {
  intOption,
  numberOption,
  booleanOption,
  enumOption,
  objectOption,
  defaultsOf,
  resolveOptions,
  describeOptions,
  listOptions,
  type OptionField,
  type OptionFields,
  type AnyOptionFields,
  type OptionOwner,
  type OptionInfo,
} from '@l2o/core/portable';
export { detach, dropout } from './ops.js';
export { initialTensors, stateInitOf, stateInitOptions, type StateInit, type StateInitMode } from './state-init.js';
export { register } from './plugin.js';
