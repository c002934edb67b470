import { describe, expect, it } from 'vitest';
import { PluginRegistry } from './registry.js';
import { closest, editDistance } from './did-you-mean.js';

const source = (packageName: string) => ({ packageName, version: '1.0.0', root: `/x/${packageName}` });
const problem = (id: string) => ({ id, description: id, create: () => ({}) as never });

describe('PluginRegistry', () => {
  it('fails on a duplicate id, naming both packages', () => {
    const registry = new PluginRegistry();
    registry.registrarFor(source('@l2o/problems')).problem(problem('lasso'));
    expect(() => registry.registrarFor(source('l2o-plugin-other')).problem(problem('lasso'))).toThrow(
      /Duplicate problem id 'lasso': registered by both @l2o\/problems and l2o-plugin-other/,
    );
  });

  it('allows the same id in different kinds', () => {
    const registry = new PluginRegistry();
    const r = registry.registrarFor(source('a'));
    r.problem(problem('lasso'));
    r.dataset({ ...problem('lasso'), serves: ['lasso'] });
    expect(registry.ids('problem')).toEqual(['lasso']);
    expect(registry.ids('dataset')).toEqual(['lasso']);
  });

  it('fails on an unknown id with the known ids and a suggestion', () => {
    const registry = new PluginRegistry();
    const r = registry.registrarFor(source('@l2o/models'));
    for (const id of ['lstm', 'gru', 'gru-mha']) r.model({ ...problem(id), defaultConfig: () => ({}) });
    let error: Error | undefined;
    try {
      registry.get('model', 'gru-mah');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe("Unknown model 'gru-mah'. Did you mean 'gru-mha'?");
    expect((error as { hint?: string }).hint).toBe('Known models: gru, gru-mha, lstm.');
    expect(() => registry.get('model', 'transformer')).toThrow(/^Unknown model 'transformer'\.$/);
  });

  it('rejects ids that are not lower-case slugs', () => {
    const registry = new PluginRegistry();
    expect(() => registry.registrarFor(source('a')).problem(problem('Bad Id'))).toThrow(/not valid/);
  });
});

describe('did you mean', () => {
  it('computes edit distances', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('gru-mah', 'gru-mha')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('fista', 'fista')).toBe(0);
  });
  it('suggests only plausible typos', () => {
    expect(closest('fsita', ['ista', 'fista', 'adam'])).toBe('fista');
    expect(closest('zzzzzz', ['ista', 'fista'])).toBeUndefined();
  });
});
