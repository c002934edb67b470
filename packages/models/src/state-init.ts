import { Rng, tf } from '@l2o/core/portable';
import { enumOption, numberOption, type OptionField } from '@l2o/core/portable';

export type StateInitMode = 'zeros' | 'random';

/** How recurrent state starts: zeros, or N(0, scale²) drawn from the platform RNG. */
export interface StateInit {
  mode: StateInitMode;
  scale: number;
  rng: Rng;
}

export type InputGradient = 'stop' | 'flow';

/**
 * Whether the meta-gradient flows through the network's inputs (∇f(y), y). The papers stop it;
 * `flow` gives the full derivative of the unrolled loss (used by the finite-difference checks).
 */
export const inputGradientOption: OptionField<InputGradient> = enumOption<InputGradient>(
  'stop',
  ['stop', 'flow'],
  "'stop': no meta-gradient through the network inputs ∇f(y), y (the papers); 'flow': full derivative",
);

export const stateInitOptions: { stateInit: OptionField<StateInitMode>; stateInitScale: OptionField<number> } = {
  stateInit: enumOption<StateInitMode>('zeros', ['zeros', 'random'], "recurrent state at the start: 'zeros' or small random N(0, stateInitScale²)"),
  stateInitScale: numberOption(0.01, "standard deviation of the 'random' initial state", { min: 0 }),
};

/**
 * The generator of a model's initial states: a fresh stream `Rng.stream(seed, 'state-init')`
 * per `init` call, so every run of a model with a seed starts from the same state.
 */
export function stateInitOf(mode: StateInitMode, scale: number, seed: number): StateInit {
  return { mode, scale, rng: Rng.stream(seed, 'state-init') };
}

/** `count` tensors [rows, width] of initial recurrent state. */
export function initialTensors(rows: number, width: number, count: number, init: StateInit): tf.Tensor2D[] {
  return Array.from({ length: count }, () => {
    if (init.mode === 'zeros' || init.scale === 0) return tf.zeros<tf.Rank.R2>([rows, width]);
    const values = init.rng.normals(rows * width);
    for (let i = 0; i < values.length; i++) values[i] = values[i]! * init.scale;
    return tf.tensor2d(values, [rows, width]);
  });
}
