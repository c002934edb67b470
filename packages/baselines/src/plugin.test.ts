import { describe, expect, it } from 'vitest';
import { PluginRegistry, UsageError, defaultsOf } from '@l2o/core';
import { Adam } from './adam.js';
import { Fista } from './fista.js';
import { Ista } from './ista.js';
import { register } from './plugin.js';
import { Sgd } from './sgd.js';

describe('the baselines plugin', () => {
  const registry = new PluginRegistry();
  register(registry.registrarFor({ packageName: '@l2o/baselines', version: '0.1.0', root: '.' }));

  it('registers ista, fista, sgd and adam, whose factories pass options on', () => {
    expect(registry.ids('optimizer')).toEqual(['adam', 'fista', 'ista', 'sgd']);
    expect(registry.get('optimizer', 'ista').create({})).toBeInstanceOf(Ista);
    expect(registry.get('optimizer', 'fista').create({})).toBeInstanceOf(Fista);
    expect(registry.get('optimizer', 'sgd').create({ lr: 0.1 }).options).toMatchObject({ lr: 0.1 });
    const adam = registry.get('optimizer', 'adam').create({ lr: 1e-3, beta1: 1e-4 });
    expect(adam).toBeInstanceOf(Adam);
    expect(adam.options).toEqual({ lr: 1e-3, beta1: 1e-4, beta2: 0.1, eps: 1e-8 });
    expect(new Sgd().id).toBe('sgd');
  });

  it('fails with a UsageError on an unknown option', () => {
    for (const id of registry.ids('optimizer')) expect(() => registry.get('optimizer', id).create({ nope: 1 })).toThrow(UsageError);
  });

  it('exposes the option fields its optimizers resolve with', () => {
    for (const id of registry.ids('optimizer')) {
      const reg = registry.get('optimizer', id);
      expect(reg.create({}).options, id).toEqual(defaultsOf(reg.options!));
    }
  });
});
