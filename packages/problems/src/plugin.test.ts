import { describe, expect, it } from 'vitest';
import { PluginRegistry, UsageError, defaultsOf } from '@l2o/core';
import { Lasso } from './lasso.js';
import { LogisticL1 } from './logistic-l1.js';
import { register } from './plugin.js';

describe('the problems plugin', () => {
  const registry = new PluginRegistry();
  register(registry.registrarFor({ packageName: '@l2o/problems', version: '0.1.0', root: '.' }));

  it('registers lasso and logistic-l1, whose factories pass options on', () => {
    expect(registry.ids('problem')).toEqual(['lasso', 'logistic-l1']);
    expect(registry.get('problem', 'lasso').create({})).toBeInstanceOf(Lasso);
    const logistic = registry.get('problem', 'logistic-l1').create({ lipschitz: 'paper' });
    expect(logistic).toBeInstanceOf(LogisticL1);
    expect(logistic.options).toEqual({ lipschitz: 'paper' });
  });

  it('fails with a UsageError on an unknown option', () => {
    expect(() => registry.get('problem', 'lasso').create({ tolerance: 1 })).toThrow(UsageError);
  });

  it('exposes the option fields its problems resolve with', () => {
    for (const id of registry.ids('problem')) {
      const reg = registry.get('problem', id);
      expect(reg.create({}).options, id).toEqual(defaultsOf(reg.options!));
    }
  });
});
