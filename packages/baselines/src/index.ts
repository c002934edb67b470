export { Ista, istaOptionFields } from './ista.js';
export { Fista, fistaOptionFields, type FistaState } from './fista.js';
export { Sgd, sgdOptionFields, type SgdOptions } from './sgd.js';
export { Adam, adamOptionFields, type AdamOptions, type AdamState } from './adam.js';
export { register } from './plugin.js';
