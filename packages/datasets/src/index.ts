export * from './synthetic.js';
export { register } from './plugin.js';
