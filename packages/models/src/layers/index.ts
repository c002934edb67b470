export { Linear } from './linear.js';
export { LstmCell, type LstmState } from './lstm-cell.js';
export { GruCell } from './gru-cell.js';
export { LayerNorm } from './layer-norm.js';
export { MultiHeadAttention } from './multi-head-attention.js';
export { StackedLstm, StackedGru } from './stacked-rnn.js';
