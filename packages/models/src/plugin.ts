import type { PluginRegistrar } from '@l2o/core/portable';
import { definePaModel } from './pa/define.js';
import { lstmModel } from './backbones/lstm.js';
import { gruModel } from './backbones/gru.js';
import { gruMhaModel } from './backbones/gru-mha.js';
import { l2oDmRegistration } from './l2o-dm.js';
import { rnnPropRegistration } from './rnnprop.js';

export function register(registrar: PluginRegistrar): void {
  registrar.model(definePaModel(lstmModel));
  registrar.model(definePaModel(gruModel));
  registrar.model(definePaModel(gruMhaModel));
  registrar.model(l2oDmRegistration);
  registrar.model(rnnPropRegistration);
}
