export { Ista } from './ista.js';
export { Fista, type FistaState } from './fista.js';
export { Sgd, type SgdOptions } from './sgd.js';
export { Adam, type AdamState } from './adam.js';
export { register } from './plugin.js';
