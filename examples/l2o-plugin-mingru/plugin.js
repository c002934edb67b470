// A learned optimizer the core does not know: minGRU (Feng et al. 2024, "Were RNNs all we
// needed?") as the backbone of the L2O-PA update. Its gates read only the input, not the state:
//   z = σ(W_z u + b_z),  h̃ = W_h u + b_h,  h' = (1 − z) ⊙ h + z ⊙ h̃
// with u = ReLU(W_in x + b_in) lifting the 2 inputs (∇f(y)ᵢ, yᵢ) to the hidden width.
import { tf } from '@l2o/core';
import { Linear, definePaModel, initialTensors, intOption } from '@l2o/models';

function minGruBackbone(weights, options) {
  const H = options.hidden;
  const lift = new Linear(weights.scope('lift'), 2, H);
  const gate = new Linear(weights.scope('gate'), H, H);
  const candidate = new Linear(weights.scope('candidate'), H, H);
  return {
    outputSize: H,
    stateKeys: ['h'],
    initState: (rows, init) => ({ h: initialTensors(rows, H, 1, init) }),
    forward(input, state) {
      const u = tf.relu(lift.apply(input));
      const z = tf.sigmoid(gate.apply(u));
      const h = tf.add(state.h[0], tf.mul(z, tf.sub(candidate.apply(u), state.h[0])));
      return { output: h, state: { h: [h] } };
    },
  };
}

export function register(registrar) {
  registrar.model(
    definePaModel({
      id: 'min-gru',
      description: 'minGRU backbone (example plugin), PA update',
      options: { hidden: intOption(16, 'hidden width', { min: 1 }) },
      backbone: minGruBackbone,
    }),
  );
}
