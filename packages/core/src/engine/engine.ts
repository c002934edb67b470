import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { tf } from '../tf.js';
import { UsageError, L2oError, isL2oError } from '../errors.js';
import { backendExtensions, markBackendActivated } from './extensions.js';

export const ENGINE_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];
export type EngineRequest = EngineName | 'auto';

interface EngineSpec {
  name: EngineName;
  /** npm package that provides it. */
  packageName: string;
  /** tfjs backend name it registers. */
  backend: string;
  install: string;
}

const SPECS: Record<EngineName, EngineSpec> = {
  'tensorflow-gpu': {
    name: 'tensorflow-gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    backend: 'tensorflow',
    install: 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA 11.2 and cuDNN 8.1 on Linux)',
  },
  tensorflow: {
    name: 'tensorflow',
    packageName: '@tensorflow/tfjs-node',
    backend: 'tensorflow',
    install: 'npm install @tensorflow/tfjs-node@4.22.0',
  },
  wasm: {
    name: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    backend: 'wasm',
    install: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
  },
  cpu: { name: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', backend: 'cpu', install: 'npm install @tensorflow/tfjs-backend-cpu@4.22.0' },
};

export interface EngineAttempt {
  engine: EngineName;
  ok: boolean;
  /** Why it was skipped or failed, or what was loaded. */
  reason: string;
}

export interface EngineReport {
  requested: EngineRequest;
  chosen: EngineName;
  backend: string;
  attempts: EngineAttempt[];
}

export interface SelectEngineOptions {
  /**
   * Directories engine packages are resolved from, before the working directory and this
   * package: a user installs tfjs-node in their own project.
   */
  resolveFrom?: string[];
}

export function parseEngineRequest(value: string | undefined): EngineRequest {
  const v = (value ?? 'auto').trim();
  if (v === 'auto' || (ENGINE_NAMES as readonly string[]).includes(v)) return v as EngineRequest;
  throw new UsageError(`Unknown backend '${v}'.`, `Use one of: auto, ${ENGINE_NAMES.join(', ')}.`);
}

type Resolver = (specifier: string) => string;

function resolverFor(from: readonly string[] = []): Resolver {
  const bases = [...from.map((d) => `${d.replace(/\/?$/, '/')}`), `${process.cwd()}/`, import.meta.url];
  const requires = bases.map((b) => createRequire(b));
  return (specifier) => {
    for (const req of requires) {
      try {
        return req.resolve(specifier);
      } catch {
        // not reachable from this base; try the next
      }
    }
    throw new Error(`cannot resolve ${specifier}`);
  };
}

/** Loads an engine's package and activates its backend; throws with the reason on failure. */
async function tryEngine(spec: EngineSpec, resolve: Resolver): Promise<string> {
  let resolved: string;
  try {
    resolved = resolve(spec.packageName);
  } catch {
    throw new Error(`not installed (${spec.install})`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? '';
    const lib = /lib[\w.+-]+\.so[\d.]*/.exec(msg)?.[0];
    throw new Error(
      lib
        ? `installed but its native library could not load ${lib} (${msg}); install the matching CUDA/cuDNN or TensorFlow library`
        : `installed but failed to load: ${msg}`,
      { cause: e },
    );
  }
  // Kernel packages registered for this backend check it before it is made active (an L2oError
  // refuses the engine: kernels written for another tfjs).
  const extensions = backendExtensions(spec.backend);
  for (const extension of extensions) extension.beforeActivate?.(loaded);
  let ok: boolean;
  // The WASM module binds console.warn as its error printer when it is instantiated, and on an
  // out-of-memory abort prints "Aborted(…)" before throwing; the CLI reports that error in one
  // line of its own. Bind it to a printer that leaves that line out (unless L2O_DEBUG is set).
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!process.env.L2O_DEBUG && typeof args[0] === 'string' && args[0].startsWith('Aborted(')) return;
    warn.apply(console, args);
  };
  try {
    ok = await tf.setBackend(spec.backend);
  } catch (e) {
    // setBackend throws when nothing registered the name (e.g. a second copy of tfjs-core).
    throw new Error(`loaded, but the '${spec.backend}' backend is not registered: ${(e as Error).message}`, { cause: e });
  } finally {
    console.warn = warn;
  }
  if (!ok) throw new Error(`the '${spec.backend}' backend failed to initialise`);
  await tf.ready();
  markBackendActivated(spec.backend, loaded);
  for (const extension of extensions) extension.install();
  return `loaded ${spec.packageName}`;
}

/**
 * Chooses the tensor engine. `auto` tries tensorflow-gpu, tensorflow, wasm, cpu in that order
 * and reports why each earlier one was skipped; an explicit request that cannot be met fails
 * with the command that installs it, never silently falls back.
 */
export async function selectEngine(request: EngineRequest, options: SelectEngineOptions = {}): Promise<EngineReport> {
  for (const extension of backendExtensions()) extension.checkSettings?.(); // e.g. a bad L2O_KERNELS, before any work
  const resolve = resolverFor(options.resolveFrom);
  const order = request === 'auto' ? [...ENGINE_NAMES] : [request];
  const attempts: EngineAttempt[] = [];
  for (const name of order) {
    const spec = SPECS[name];
    try {
      const reason = await tryEngine(spec, resolve);
      attempts.push({ engine: name, ok: true, reason });
      return { requested: request, chosen: name, backend: tf.getBackend(), attempts };
    } catch (e) {
      // A kernel package's refusal (a tfjs other than theirs) is not a missing engine: no fallback.
      if (isL2oError(e)) throw e;
      attempts.push({ engine: name, ok: false, reason: (e as Error).message });
      if (request !== 'auto') {
        throw new L2oError(`Backend '${name}' is not available: ${(e as Error).message}.`, 'Or use --backend auto.');
      }
    }
  }
  throw new L2oError(`No tensor engine could be loaded: ${attempts.map((a) => `${a.engine}: ${a.reason}`).join('; ')}.`, 'Reinstall with npm ci.');
}

/** The engines this machine has, without changing the active one. */
export async function probeEngines(options: SelectEngineOptions = {}): Promise<EngineAttempt[]> {
  const resolve = resolverFor(options.resolveFrom);
  const active = tf.getBackend();
  const attempts: EngineAttempt[] = [];
  for (const name of ENGINE_NAMES) {
    try {
      attempts.push({ engine: name, ok: true, reason: await tryEngine(SPECS[name], resolve) });
    } catch (e) {
      attempts.push({ engine: name, ok: false, reason: e instanceof L2oError ? e.oneLine() : (e as Error).message });
    }
  }
  if (active) await tf.setBackend(active);
  return attempts;
}

export function engineSpec(name: EngineName): Readonly<EngineSpec> {
  return SPECS[name];
}
