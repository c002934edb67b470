import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { L2oError, UsageError } from '../errors.js';
import type { PluginModule } from '../contracts/plugin.js';
import type { PluginRegistry, PluginSource } from '../registry/registry.js';

/** A package that declares itself an l2o plugin: `"l2o": { "plugin": "./dist/plugin.js" }`. */
export interface PluginCandidate extends PluginSource {
  entry: string;
  /** How it was found: among installed packages, or from a path given by config or flag. */
  foundBy: 'node_modules' | 'path';
}

export interface DiscoveryOptions {
  /** Directories from which node_modules folders are searched, walking up to the root. */
  searchFrom: string[];
  /** Plugin packages or entry files given explicitly (config file, --plugin). */
  pluginPaths?: string[];
}

interface PackageJson {
  name?: string;
  version?: string;
  l2o?: { plugin?: string };
}

function readPackageJson(dir: string): PackageJson | undefined {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

function candidateFromPackage(dir: string, foundBy: PluginCandidate['foundBy']): PluginCandidate | undefined {
  const pkg = readPackageJson(dir);
  const entry = pkg?.l2o?.plugin;
  if (!pkg || typeof entry !== 'string') return undefined;
  const root = realpathSync(dir);
  return {
    packageName: pkg.name ?? root,
    version: pkg.version ?? '0.0.0',
    root,
    entry: path.resolve(root, entry),
    foundBy,
  };
}

function packagesIn(nodeModules: string): string[] {
  const dirs: string[] = [];
  for (const name of safeReaddir(nodeModules)) {
    if (name.startsWith('.')) continue;
    const full = path.join(nodeModules, name);
    if (name.startsWith('@')) {
      for (const scoped of safeReaddir(full)) dirs.push(path.join(full, scoped));
    } else {
      dirs.push(full);
    }
  }
  return dirs;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every node_modules folder from `start` up to the filesystem root, nearest first. */
function nodeModulesChain(start: string): string[] {
  const chain: string[] = [];
  let dir = path.resolve(start);
  for (;;) {
    const nm = path.join(dir, 'node_modules');
    if (existsSync(nm)) chain.push(nm);
    const parent = path.dirname(dir);
    if (parent === dir) return chain;
    dir = parent;
  }
}

function candidateFromPath(given: string): PluginCandidate {
  const abs = path.resolve(given);
  if (!existsSync(abs)) {
    throw new UsageError(`Plugin path '${given}' does not exist.`, 'Give the folder of a plugin package or its entry file.');
  }
  if (statSync(abs).isDirectory()) {
    const found = candidateFromPackage(abs, 'path');
    if (!found) {
      throw new UsageError(
        `'${given}' is not an l2o plugin: its package.json has no "l2o": { "plugin": "<entry>" } field.`,
        'Add the field, pointing at the module that exports register().',
      );
    }
    return found;
  }
  return { packageName: abs, version: '0.0.0', root: path.dirname(abs), entry: abs, foundBy: 'path' };
}

/**
 * Finds plugin packages: every installed package (in the node_modules folders above the
 * search directories) whose package.json declares it a plugin, then the given paths. A package
 * reachable twice (workspace symlinks, nested installs) is listed once, nearest first.
 */
export function discoverPlugins(options: DiscoveryOptions): PluginCandidate[] {
  const byName = new Map<string, PluginCandidate>();
  const seenRoots = new Set<string>();
  const add = (c: PluginCandidate | undefined) => {
    if (!c || seenRoots.has(c.root) || byName.has(c.packageName)) return;
    seenRoots.add(c.root);
    byName.set(c.packageName, c);
  };
  for (const start of options.searchFrom) {
    for (const nm of nodeModulesChain(start)) {
      for (const dir of packagesIn(nm)) add(candidateFromPackage(dir, 'node_modules'));
    }
  }
  for (const p of options.pluginPaths ?? []) {
    const c = candidateFromPath(p);
    // A path given explicitly wins over an installed copy of the same package.
    for (const [name, existing] of byName) {
      if (name === c.packageName || existing.root === c.root) {
        byName.delete(name);
        seenRoots.delete(existing.root);
      }
    }
    add(c);
  }
  return [...byName.values()];
}

/**
 * Imports each candidate's entry and lets it register its factories. A plugin that fails to load
 * throws, unless `onError` takes the error (the platform then warns and goes on without it).
 */
export async function loadPlugins(
  registry: PluginRegistry,
  candidates: readonly PluginCandidate[],
  onError?: (candidate: PluginCandidate, error: L2oError) => void,
): Promise<void> {
  for (const c of candidates) {
    try {
      await loadPlugin(registry, c);
    } catch (e) {
      if (!onError || !(e instanceof L2oError) || /^Duplicate /.test(e.message)) throw e;
      onError(c, e);
    }
  }
}

async function loadPlugin(registry: PluginRegistry, c: PluginCandidate): Promise<void> {
  if (!existsSync(c.entry)) {
    throw new L2oError(
      `Plugin ${c.packageName} declares the entry ${path.relative(process.cwd(), c.entry)}, which does not exist.`,
      'Build the package (npm run build) or fix its "l2o.plugin" field.',
    );
  }
  let mod: Partial<PluginModule>;
  try {
    mod = (await import(pathToFileURL(c.entry).href)) as Partial<PluginModule>;
  } catch (e) {
    throw new L2oError(`Plugin ${c.packageName} failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof mod.register !== 'function') {
    throw new L2oError(`Plugin ${c.packageName} does not export a register(registrar) function from ${path.basename(c.entry)}.`);
  }
  try {
    await mod.register(registry.registrarFor(c));
  } catch (e) {
    // The registry's own errors (duplicate ids) already name the plugin.
    if (e instanceof L2oError) throw e;
    throw new L2oError(`Plugin ${c.packageName} failed in register(): ${(e as Error).message?.split('\n')[0] ?? String(e)}`, 'Fix the plugin, or remove it.');
  }
}
