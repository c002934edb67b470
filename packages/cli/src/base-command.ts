import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Errors } from '@oclif/core';
import {
  engineMemoryError,
  bootPlatform,
  fsError,
  isL2oError,
  parseEngineRequest,
  stderrLogger,
  silentLogger,
  UsageError,
  TOKENS,
  type Platform,
} from '@l2o/core';
import { registerReport } from '@l2o/report';
import { defaultStoreLocation, storeWriter } from '@l2o/store';
import { globalFlags } from './flags.js';

/** The CLI package's folder: plugins it depends on are found from here when installed globally. */
export const CLI_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Plugin paths from ./l2o.config.json ({"plugins": ["path", ...]}), relative to the file. */
function configPlugins(): string[] {
  const file = path.resolve('l2o.config.json');
  if (!existsSync(file)) return [];
  let parsed: { plugins?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as { plugins?: unknown };
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}.`);
  }
  if (parsed.plugins === undefined) return [];
  if (!Array.isArray(parsed.plugins) || parsed.plugins.some((p) => typeof p !== 'string')) {
    throw new UsageError(`${file}: "plugins" must be a list of paths.`);
  }
  return (parsed.plugins as string[]).map((p) => path.resolve(path.dirname(file), p));
}

/**
 * Flags and behaviour every command shares: engine, plugins, output mode, and errors printed
 * as one line with exit code 1 (failure) or 2 (bad usage), never a stack trace.
 */
export abstract class L2oCommand extends Command {
  // oclif's own --json: a command returns its result and oclif prints it as JSON in --json mode.
  static override enableJsonFlag = true;
  static override baseFlags = globalFlags;

  protected jsonMode = false;
  protected quietMode = false;

  /**
   * Aborted on the first SIGINT or SIGTERM (reason: the signal's name). Core loops check it
   * between units of work and stop with nothing partial written; a second signal quits at once.
   */
  protected readonly interrupt = new AbortController();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGTERM' ? 143 : 130;
    if (this.interrupt.signal.aborted) process.exit(code);
    this.interrupt.abort(signal);
    if (!this.quietMode && !this.jsonMode) process.stderr.write(`\n${signal}: stopping at the next safe point (again to quit at once)\n`);
  };

  override async init(): Promise<void> {
    await super.init();
    this.jsonMode = this.jsonEnabled();
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  override async finally(error: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    // A command stopped by a signal exits 130 (SIGINT) or 143 (SIGTERM), however it ended.
    if (this.interrupt.signal.aborted && (!process.exitCode || process.exitCode === 0)) {
      process.exitCode = this.interrupt.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    await super.finally(error);
  }

  /**
   * Boots the platform. `store`: where finished runs are stored (a folder or postgres://…;
   * 'off' for none); commands that produce runs pass their --store flag.
   */
  protected async boot(
    flags: { backend: string; plugin?: string[]; quiet: boolean; store?: string },
    extra: Partial<Parameters<typeof bootPlatform>[0]> = {},
  ): Promise<Platform> {
    this.quietMode = flags.quiet;
    // A command with a --store flag stores its runs, in the default store when the flag is not
    // given (oclif leaves an unset flag out of `flags`, so the flag's declaration decides).
    const takesStore = Object.hasOwn((this.constructor as { flags?: object }).flags ?? {}, 'store');
    const store = takesStore ? (flags.store ?? defaultStoreLocation()) : 'off';
    const versions = { '@l2o/cli': this.config.version };
    const commit = gitCommit();
    return bootPlatform(
      {
        backend: parseEngineRequest(flags.backend),
        // This CLI's own installation first: run from inside another checkout or project that has
        // other copies of the same plugins, it still uses those it was built with (the working
        // directory adds plugins of other names; --plugin overrides a package by name).
        searchFrom: [CLI_ROOT, process.cwd()],
        pluginPaths: [...configPlugins(), ...(flags.plugin ?? [])],
        // Quiet and JSON modes keep warnings, on stderr (stdout stays the result).
        logger: this.quietMode || this.jsonMode ? { info: silentLogger.info, warn: stderrLogger.warn } : stderrLogger,
        gitCommit: commit,
        ...extra,
      },
      {
        register: (container) => {
          registerReport(container); // run directories get @l2o/report's plot and summary.md
          if (store !== 'off') container.register(TOKENS.RunStore, { useValue: storeWriter(store, { versions, gitCommit: commit }) });
        },
      },
    );
  }

  /** Human-readable progress and notes go to stderr, so stdout stays the result. */
  protected note(line: string): void {
    if (!this.quietMode && !this.jsonMode) process.stderr.write(`${line}\n`);
  }

  protected override async catch(thrown: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    let code = 1;
    let line: string;
    // A file system error that names its path (ENOSPC, EACCES, EROFS, …) is one line saying where,
    // why and what to do; the writers name their target even when Node's error has no path.
    const err = engineMemoryError(thrown) ?? fsError(thrown) ?? thrown;
    if (isL2oError(err)) {
      line = err.oneLine();
      code = err.exitCode;
    } else if (err instanceof Errors.CLIError || err?.oclif) {
      // Flag parsing: oclif's message can span lines ("See more help with --help").
      line = err.message
        .split('\n')
        .filter((l) => l.trim() && !/See more help/.test(l))
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim();
      code = 2;
    } else {
      // Not always an Error: WASM modules throw their own objects, some without a message.
      line = `${String(err?.message ?? err).split('\n')[0]} (unexpected; rerun with L2O_DEBUG=1 for details)`;
      if (process.env.L2O_DEBUG) process.stderr.write(`${err?.stack ?? String(err)}\n`);
    }
    process.stderr.write(`Error: ${line}\n`);
    if (this.jsonMode) {
      const hint = isL2oError(err) ? err.hint : undefined;
      this.logJson({ error: { message: isL2oError(err) ? err.message : line, ...(hint ? { hint } : {}), exitCode: code } });
    }
    process.exitCode = code;
  }
}

/**
 * The commit of the l2o code that runs (provenance of stored runs): this CLI's own checkout when it
 * runs from one, with '-dirty' when its tracked files differ from the commit; none for an
 * installed package. (The working directory's repository says nothing about the code.)
 */
export function gitCommit(): string | undefined {
  const git = (...args: string[]) => spawnSync('git', ['-C', CLI_ROOT, ...args], { encoding: 'utf8', timeout: 5000 });
  const top = git('rev-parse', '--show-toplevel', 'HEAD');
  if (top.status !== 0) return undefined;
  const [root, commit] = top.stdout.trim().split('\n');
  if (!root || !commit || path.resolve(root, 'packages/cli') !== CLI_ROOT) return undefined;
  return git('diff', '--quiet', 'HEAD', '--').status === 0 ? commit : `${commit}-dirty`;
}

/** Parses `id.key.sub=value` option flags into per-plugin option objects. */
export function parsePluginOptions(entries: readonly string[] | undefined): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const entry of entries ?? []) {
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq) : '';
    const dot = key.indexOf('.');
    if (eq <= 0 || dot <= 0 || dot === key.length - 1) {
      throw new UsageError(`Option '${entry}' is not of the form <id>.<key>=<value>.`, 'Example: -o gru-mha.attention.axis=history');
    }
    const id = key.slice(0, dot);
    const pathParts = key.slice(dot + 1).split('.');
    const raw = entry.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a bare string
    }
    const target = out.get(id) ?? {};
    let node = target;
    for (const part of pathParts.slice(0, -1)) {
      node[part] = typeof node[part] === 'object' && node[part] !== null ? node[part] : {};
      node = node[part] as Record<string, unknown>;
    }
    node[pathParts.at(-1)!] = value;
    out.set(id, target);
  }
  return out;
}
