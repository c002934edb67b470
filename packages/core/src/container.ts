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
  /** The commit of the l2o code that runs (recorded in every run's summary), when known. */
  gitCommit?: string;
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

/**
 * The wired platform. Its services are resolved from its container on every read, so whatever a
 * host or a test registered there (`BootOptions.register`) is what every core service uses.
 */
export class Platform {
  constructor(
    readonly container: DependencyContainer,
    /** Plugins found but not loaded (broken or unbuilt), with the reason. */
    readonly pluginErrors: { packageName: string; message: string }[],
  ) {}

  get settings(): PlatformSettings {
    return this.container.resolve<PlatformSettings>(TOKENS.Settings);
  }

  /** Every discovered plugin's registrations. */
  get registry(): PluginRegistry {
    return this.container.resolve<PluginRegistry>(TOKENS.Registry);
  }

  /** The tensor engine in use and why it was chosen. */
  get engine(): EngineReport {
    return this.container.resolve<EngineReport>(TOKENS.Engine);
  }

  get logger(): Logger {
    return this.container.resolve<Logger>(TOKENS.Logger);
  }

  /** Where datasets find raw files and their cache. */
  get datasetContext(): DatasetContext {
    return this.container.resolve<DatasetContext>(TOKENS.DatasetContext);
  }

  /** An optional service (RunRenderer, RunStore): the registered implementation, or undefined. */
  optional<T>(token: symbol): T | undefined {
    return this.container.isRegistered(token, true) ? this.container.resolve<T>(token) : undefined;
  }
}

export interface BootOptions {
  /**
   * Registers the host's implementations in the platform's container, after the core services:
   * optional services (`TOKENS.RunRenderer`, `TOKENS.RunStore`), or substitutes for core ones
   * (a test's logger or dataset context); the last registration of a token wins.
   */
  register?: (container: DependencyContainer) => void;
}

/**
 * Boots the platform: discovers and registers plugins, selects the engine, and registers the
 * services in a child container so that several platforms (tests) do not share state.
 */
export async function bootPlatform(overrides: Partial<PlatformSettings> = {}, options: BootOptions = {}): Promise<Platform> {
  const settings = defaultSettings(overrides);
  const registry = new PluginRegistry();
  const pluginErrors: { packageName: string; message: string }[] = [];
  // Plugins first: the kernel packages they import register with the engine selection
  // (registerBackendExtension), which checks and installs them when it loads their backend.
  await loadPlugins(registry, discoverPlugins({ searchFrom: settings.searchFrom, pluginPaths: settings.pluginPaths }), (c, e) => {
    pluginErrors.push({ packageName: c.packageName, message: e.oneLine() });
    settings.logger.warn(`plugin ${c.packageName} skipped: ${e.oneLine()}`);
  });
  const engine = await selectEngine(settings.backend);
  const container = rootContainer.createChildContainer();
  // Lines go to whichever logger the container holds when they are written (a host may replace it).
  const logger = () => container.resolve<Logger>(TOKENS.Logger);
  const datasetContext: DatasetContext = {
    dataDir: settings.dataDir,
    cacheDir: settings.cacheDir,
    allowDownload: settings.allowDownload,
    log: (line) => logger().info(line),
    warn: (line) => logger().warn(line),
  };
  container.register(TOKENS.Settings, { useValue: settings });
  container.register(TOKENS.Registry, { useValue: registry });
  container.register(TOKENS.Engine, { useValue: engine });
  container.register(TOKENS.Logger, { useValue: settings.logger });
  container.register(TOKENS.DatasetContext, { useValue: datasetContext });
  options.register?.(container);
  return new Platform(container, pluginErrors);
}
