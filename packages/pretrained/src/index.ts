export { register, shippedEntries, type ShippedEntry } from './plugin.js';
