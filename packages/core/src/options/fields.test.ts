import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import {
  booleanOption,
  defaultsOf,
  describeOptions,
  enumOption,
  intOption,
  listOptions,
  numberOption,
  objectOption,
  resolveOptions,
  type OptionFields,
} from './fields.js';

interface Example {
  hidden: number;
  lr: number;
  step: number | undefined;
  norm: 'a' | 'b';
  shared: boolean;
  attention: { axis: 'coordinates' | 'history'; heads: number };
}

const fields: OptionFields<Example> = {
  hidden: intOption(16, 'hidden width', { min: 1 }),
  lr: numberOption(1e-2, 'step size', { min: 0, exclusiveMin: true }),
  step: numberOption(undefined, 'a fixed step', { min: 0, defaultText: 'from preset' }),
  norm: enumOption<'a' | 'b'>('a', ['a', 'b'], 'normalisation'),
  shared: booleanOption(false, 'one matrix for all'),
  attention: objectOption(
    {
      axis: enumOption<'coordinates' | 'history'>('coordinates', ['coordinates', 'history'], 'tokens'),
      heads: intOption(4, 'attention heads', { min: 1 }),
    },
    'attention',
  ),
};

const optimizer = { kind: 'optimizer', id: 'adam' };
const error = (f: () => unknown): UsageError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('option fields', () => {
  it('fill in defaults, with optional fields present and undefined', () => {
    const d = defaultsOf(fields);
    expect(d).toEqual({ hidden: 16, lr: 1e-2, step: undefined, norm: 'a', shared: false, attention: { axis: 'coordinates', heads: 4 } });
    expect(Object.keys(d)).toContain('step');
    expect(resolveOptions(optimizer, fields, {})).toEqual(d);
    expect(resolveOptions(optimizer, fields, undefined)).toEqual(d);
  });

  it('merge given values, nested objects partially', () => {
    expect(resolveOptions(optimizer, fields, { lr: 0.5, attention: { heads: 2 }, shared: true, step: 3 })).toEqual({
      hidden: 16,
      lr: 0.5,
      step: 3,
      norm: 'a',
      shared: true,
      attention: { axis: 'coordinates', heads: 2 },
    });
    // defaults are not shared between resolutions
    const a = resolveOptions(optimizer, fields, {});
    a.attention.heads = 99;
    expect(defaultsOf(fields).attention.heads).toBe(4);
  });

  it('name the plugin kind and id in errors, with a did-you-mean and the known options', () => {
    const unknown = error(() => resolveOptions({ kind: 'dataset', id: 'synthetic' }, fields, { hiden: 3 }));
    expect(unknown.message).toBe("Unknown option 'hiden' for dataset 'synthetic'. Did you mean 'hidden'?");
    expect(unknown.hint).toBe('Known options: hidden, lr, step, norm, shared, attention.');
    const nested = error(() => resolveOptions({ kind: 'model', id: 'gru-mha' }, fields, { attention: { axes: 'history' } }));
    expect(nested.message).toBe("Unknown option 'attention.axes' for model 'gru-mha'. Did you mean 'attention.axis'?");
    expect(nested.hint).toBe("Known options of 'attention': axis, heads.");
    expect(error(() => resolveOptions(optimizer, fields, { lr: 0 })).message).toBe("Option 'lr' of optimizer 'adam' must be a finite number > 0, got 0.");
    expect(error(() => resolveOptions(optimizer, fields, { hidden: 1.5 })).message).toMatch(
      /^Option 'hidden' of optimizer 'adam' must be an integer ≥ 1, got 1.5\.$/,
    );
    expect(error(() => resolveOptions(optimizer, fields, { norm: 'bb' })).message).toBe(
      "Option 'norm' of optimizer 'adam' must be one of 'a', 'b', got \"bb\". Did you mean 'b'?",
    );
    expect(error(() => resolveOptions(optimizer, fields, { shared: 'yes' })).message).toMatch(/'shared' of optimizer 'adam' must be true or false/);
    expect(error(() => resolveOptions(optimizer, fields, { attention: 3 })).message).toMatch(/'attention' of optimizer 'adam' must be an object/);
    expect(error(() => resolveOptions(optimizer, fields, [] as never)).message).toMatch(/options of optimizer 'adam' must be an object/);
    const none = error(() => resolveOptions({ kind: 'problem', id: 'lasso' }, {}, { tolerance: 1 }));
    expect(none.message).toBe("Unknown option 'tolerance' for problem 'lasso'.");
    expect(none.hint).toBe("The problem 'lasso' takes no options.");
  });

  it('treat keys given as undefined as left out', () => {
    expect(resolveOptions(optimizer, fields, { lr: undefined, nope: undefined }).lr).toBe(1e-2);
  });

  it('accept string forms only when asked', () => {
    const text = {
      m: intOption(undefined, 'rows', { min: 1, acceptStrings: true }),
      lambda: numberOption(0.1, 'λ', { min: 0, acceptStrings: true }),
      shared: booleanOption(false, 'shared', { acceptStrings: true }),
    };
    expect(resolveOptions(optimizer, text, { m: '20', lambda: '0.5', shared: 'true' })).toEqual({ m: 20, lambda: 0.5, shared: true });
    expect(resolveOptions(optimizer, text, { shared: 'false' }).shared).toBe(false);
    expect(() => resolveOptions(optimizer, text, { m: '' })).toThrow(/'m' of optimizer 'adam' must be an integer ≥ 1, got ""/);
    expect(() => resolveOptions(optimizer, text, { m: 'x' })).toThrow(UsageError);
    expect(() => resolveOptions(optimizer, fields, { hidden: '16' })).toThrow(/must be an integer ≥ 1, got "16"/);
    expect(() => resolveOptions(optimizer, fields, { shared: 'true' })).toThrow(/must be true or false/);
  });

  it('describe ranges in words', () => {
    const f = { decay: intOption(0, 'decay', { min: 0, max: 1 }), beta: numberOption(0.1, 'β', { min: 0, max: 1, exclusiveMax: true }) };
    expect(() => resolveOptions(optimizer, f, { decay: 0.5 })).toThrow("Option 'decay' of optimizer 'adam' must be an integer from 0 to 1, got 0.5.");
    expect(() => resolveOptions(optimizer, f, { beta: 1 })).toThrow("Option 'beta' of optimizer 'adam' must be a finite number ≥ 0 and < 1, got 1.");
    expect(() => resolveOptions(optimizer, f, { beta: Number.NaN })).toThrow(UsageError);
  });

  it('list options with dotted names, defaults and descriptions', () => {
    const list = listOptions(fields);
    expect(list.map((o) => o.name)).toEqual(['hidden', 'lr', 'step', 'norm', 'shared', 'attention.axis', 'attention.heads']);
    expect(list.find((o) => o.name === 'attention.heads')).toEqual({ name: 'attention.heads', default: 4, defaultText: '4', description: 'attention heads' });
    expect(list.find((o) => o.name === 'step')).toEqual({ name: 'step', defaultText: 'from preset', description: 'a fixed step' });
    expect(describeOptions(fields)).toContain('norm (default "a"): normalisation');
    expect(listOptions(undefined)).toEqual([]);
  });
});

describe('bad values', () => {
  it('hint at the default', () => {
    expect(error(() => resolveOptions(optimizer, fields, { lr: -1 })).hint).toBe('Leave it out for the default 0.01.');
    expect(error(() => resolveOptions(optimizer, fields, { step: -1 })).hint).toBe('Leave it out for the default (from preset).');
    expect(error(() => resolveOptions(optimizer, fields, { attention: { heads: 0 } })).hint).toBe('Leave it out for the default 4.');
  });
});
