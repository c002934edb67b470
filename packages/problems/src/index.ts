export { Lasso, lassoOptionFields } from './lasso.js';
export { LogisticL1, logisticL1OptionFields, type LogisticLipschitz } from './logistic-l1.js';
export { softThreshold, squaredSpectralNorm, l1KktResidual, applyA, applyAt, MIN_LIPSCHITZ } from './shared.js';
export { register } from './plugin.js';
export { l1Composite64, leastSquares64, logisticLoss64, l1KktResidual64, type Smooth64 } from './float64.js';
