export { L2oCommand, parsePluginOptions } from './base-command.js';
