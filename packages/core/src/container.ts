import 'reflect-metadata';
import os from 'node:os';
import path from 'node:path';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { discoverPlugins, loadPlugins } from './discovery/discover.js';
import { selectEngine, type EngineReport, type EngineRequest } from './engine/engine.js';
import { PluginRegistry } from './registry/registry.js';
import { type Logger, silentLogger } from './logger.js';
import type { DatasetContext } from './contracts/dataset.js';

/** Injection tokens: explicit, so no decorator metadata is needed (esbuild does not emit it). */
export const TOKENS = {
  Settings: Symbol.for('l2o.Settings'),
  Registry: Symbol.for('l2o.Registry'),
  Engine: Symbol.for('l2o.Engine'),
  Logger: Symbol.for('l2o.Logger'),
  DatasetContext: Symbol.for('l2o.DatasetContext'),
  /** Optional: a RunRenderer (contracts/run-renderer.ts) that adds plots and a summary to run directories. */
  RunRenderer: Symbol.for('l2o.RunRenderer'),
  /** Optional: a RunStore (contracts/run-store.ts) that finished runs are stored in. */
  RunStore: Symbol.for('l2o.RunStore'),
} as const;

export interface PlatformSettings {
  backend: EngineRequest;
  /** Directories whose node_modules chains are searched for plugins. */
  searchFrom: string[];
  /** Plugin packages or files given by path (config file, --plugin). */
  pluginPaths: string[];
  /** Where run directories are created. */
  runsDir: string;
  /** Cache root: test sets, processed datasets, checkpoints. */
  cacheDir: string;
  /** Raw dataset files: bsds500/images/test/*.jpg, uci/ionosphere.data, uci/spambase.data. */
  dataDir?: string;
  allowDownload: boolean;
  logger: Logger;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'l2o');
}

export function defaultSettings(overrides: Partial<PlatformSettings> = {}): PlatformSettings {
  return {
    backend: 'auto',
    searchFrom: [process.cwd()],
    pluginPaths: [],
    runsDir: path.resolve('runs'),
    cacheDir: process.env.L2O_CACHE_DIR || defaultCacheDir(),
    dataDir: process.env.L2O_DATA_DIR || undefined,
    allowDownload: false,
    logger: silentLogger,
    ...overrides,
  };
}

/** The wired platform: settings, registry with every discovered plugin, the active engine. */
export interface Platform {
  container: DependencyContainer;
  settings: PlatformSettings;
  registry: PluginRegistry;
  engine: EngineReport;
  datasetContext: DatasetContext;
  /** Plugins found but not loaded (broken or unbuilt), with the reason. */
  pluginErrors: { packageName: string; message: string }[];
}

export interface BootOptions {
  /**
   * Registers the host's implementations of optional services (e.g. `TOKENS.RunRenderer`) in the
   * platform's container, after the core services.
   */
  register?: (container: DependencyContainer) => void;
}

/**
 * Boots the platform: selects the engine, discovers and registers plugins, and registers the
 * services in a child container so that several platforms (tests) do not share state.
 */
export async function bootPlatform(overrides: Partial<PlatformSettings> = {}, options: BootOptions = {}): Promise<Platform> {
  const settings = defaultSettings(overrides);
  const engine = await selectEngine(settings.backend);
  const registry = new PluginRegistry();
  const pluginErrors: { packageName: string; message: string }[] = [];
  await loadPlugins(registry, discoverPlugins({ searchFrom: settings.searchFrom, pluginPaths: settings.pluginPaths }), (c, e) => {
    pluginErrors.push({ packageName: c.packageName, message: e.oneLine() });
    settings.logger.warn(`plugin ${c.packageName} skipped: ${e.oneLine()}`);
  });
  const datasetContext: DatasetContext = {
    dataDir: settings.dataDir,
    cacheDir: settings.cacheDir,
    allowDownload: settings.allowDownload,
    log: (line) => settings.logger.info(line),
    warn: (line) => settings.logger.warn(line),
  };
  const container = rootContainer.createChildContainer();
  container.register(TOKENS.Settings, { useValue: settings });
  container.register(TOKENS.Registry, { useValue: registry });
  container.register(TOKENS.Engine, { useValue: engine });
  container.register(TOKENS.Logger, { useValue: settings.logger });
  container.register(TOKENS.DatasetContext, { useValue: datasetContext });
  options.register?.(container);
  return { container, settings, registry, engine, datasetContext, pluginErrors };
}
