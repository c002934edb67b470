import type { PluginRegistrar } from '@l2o/core';
import { syntheticRegistration } from './synthetic.js';
import { bsds500Registration } from './bsds500/bsds500.js';
import { uciRegistration } from './uci/uci.js';

export function register(registrar: PluginRegistrar): void {
  registrar.dataset(syntheticRegistration);
  registrar.dataset(bsds500Registration);
  registrar.dataset(uciRegistration('ionosphere'));
  registrar.dataset(uciRegistration('spambase'));
}
