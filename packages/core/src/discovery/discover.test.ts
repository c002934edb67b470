import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverPlugins, loadPlugins } from './discover.js';
import { PluginRegistry } from '../registry/registry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'l2o-discovery-'));
  dirs.push(dir);
  return dir;
}

/** Writes a plugin package that registers one problem with the given id. */
function writePlugin(root: string, name: string, problemId: string, entry = 'plugin.mjs'): string {
  const dir = path.join(root, ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '2.3.4', l2o: { plugin: `./${entry}` } }));
  writeFileSync(
    path.join(dir, entry),
    `export function register(r) { r.problem({ id: '${problemId}', description: 'test', create: () => ({ id: '${problemId}' }) }); }\n`,
  );
  return dir;
}

describe('plugin discovery', () => {
  it('finds a plugin package installed in a project outside the workspace and registers it', async () => {
    const project = tempProject();
    writePlugin(path.join(project, 'node_modules'), '@acme/l2o-quadratic', 'quadratic');
    // A package without the declaration is ignored.
    mkdirSync(path.join(project, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(path.join(project, 'node_modules', 'left-pad', 'package.json'), '{"name":"left-pad","version":"1.0.0"}');
    const nested = path.join(project, 'src', 'deep');
    mkdirSync(nested, { recursive: true });

    const found = discoverPlugins({ searchFrom: [nested] }).filter((c) => c.root.startsWith(project));
    expect(found.map((c) => [c.packageName, c.version, c.foundBy])).toEqual([['@acme/l2o-quadratic', '2.3.4', 'node_modules']]);

    const registry = new PluginRegistry();
    await loadPlugins(registry, found);
    expect(registry.get('problem', 'quadratic').source.packageName).toBe('@acme/l2o-quadratic');
  });

  it('finds plugins given by path, and lists a symlinked package once', async () => {
    const project = tempProject();
    const real = writePlugin(path.join(project, 'plugins'), 'l2o-plugin-local', 'local-problem');
    mkdirSync(path.join(project, 'node_modules'), { recursive: true });
    symlinkSync(real, path.join(project, 'node_modules', 'l2o-plugin-local'));
    const found = discoverPlugins({ searchFrom: [project], pluginPaths: [real] }).filter((c) => c.root.startsWith(project));
    expect(found).toHaveLength(1);
    expect(found[0]!.foundBy).toBe('path');
  });

  it('reports two packages registering the same id', async () => {
    const project = tempProject();
    writePlugin(path.join(project, 'node_modules'), 'l2o-plugin-a', 'same');
    writePlugin(path.join(project, 'node_modules'), 'l2o-plugin-b', 'same');
    const found = discoverPlugins({ searchFrom: [project] }).filter((c) => c.root.startsWith(project));
    await expect(loadPlugins(new PluginRegistry(), found)).rejects.toThrow(/Duplicate problem id 'same': registered by both l2o-plugin-a and l2o-plugin-b/);
  });

  it('explains a path that is not a plugin', () => {
    const project = tempProject();
    writeFileSync(path.join(project, 'package.json'), '{"name":"x"}');
    expect(() => discoverPlugins({ searchFrom: [], pluginPaths: [project] })).toThrow(/is not an l2o plugin/);
    expect(() => discoverPlugins({ searchFrom: [], pluginPaths: [path.join(project, 'nope')] })).toThrow(/does not exist/);
  });

  it('explains a plugin whose entry does not export register', async () => {
    const project = tempProject();
    const dir = writePlugin(path.join(project, 'node_modules'), 'l2o-plugin-broken', 'x');
    writeFileSync(path.join(dir, 'plugin.mjs'), 'export const nothing = 1;\n');
    const found = discoverPlugins({ searchFrom: [project] }).filter((c) => c.root.startsWith(project));
    await expect(loadPlugins(new PluginRegistry(), found)).rejects.toThrow(/does not export a register/);
  });
});
