export { Ista } from './ista.js';
export { Fista } from './fista.js';
export { Sgd } from './sgd.js';
export { Adam } from './adam.js';
export { register } from './plugin.js';
