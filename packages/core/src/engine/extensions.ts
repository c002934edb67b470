import { tf } from '../tf.js';

/**
 * A package that adds kernels to one tfjs backend, as @l2o/wasm-kernels does to WASM (and as
 * tfjs's backend packages do to tfjs-core): importing it registers it here, and selectEngine
 * consults it when it loads that backend. Core knows none by name; the packages whose ops use
 * such kernels import them, and plugins are loaded before the engine is chosen.
 */
export interface BackendExtension {
  /** What the engine label adds while its kernels run, e.g. 'l2o-kernels' → 'wasm+l2o-kernels'. */
  name: string;
  /** The tfjs backend it adds kernels to. */
  backend: string;
  /** Fails with an L2oError on settings it cannot run with (an environment variable), before any engine loads. */
  checkSettings?(): void;
  /**
   * Called with the backend's loaded package before the backend is made active: throws an
   * L2oError to refuse the engine (kernels written for another tfjs), which no fallback hides.
   */
  beforeActivate?(loaded: Readonly<Record<string, unknown>>): void;
  /** Installs its kernels once the backend is active (a backend's own registrations replace earlier ones). */
  install(): void;
  /** Whether its kernels run now. */
  active(): boolean;
}

const extensions: BackendExtension[] = [];
/** The package each backend was last activated from, for an extension registered after the engine was chosen. */
const activatedFrom = new Map<string, Readonly<Record<string, unknown>>>();

/** Registers `extension` (once per name); on its backend, if already active, it is checked and installed now. */
export function registerBackendExtension(extension: BackendExtension): void {
  if (extensions.some((e) => e.name === extension.name)) return;
  extensions.push(extension);
  const loaded = activatedFrom.get(extension.backend);
  if (loaded && tf.getBackend() === extension.backend) {
    extension.beforeActivate?.(loaded);
    extension.install();
  }
}

/** The registered extensions (selectEngine's hooks). */
export function backendExtensions(backend?: string): readonly BackendExtension[] {
  return backend === undefined ? extensions : extensions.filter((e) => e.backend === backend);
}

/** Records the package `backend` was activated from (selectEngine). */
export function markBackendActivated(backend: string, loaded: Readonly<Record<string, unknown>>): void {
  activatedFrom.set(backend, loaded);
}

/** The engine as a run records it: its name, with each extension whose kernels ran on it ('wasm+l2o-kernels'). */
export function engineLabel(engine: string): string {
  const backend = engine === 'tensorflow-gpu' ? 'tensorflow' : engine;
  return [engine, ...extensions.filter((e) => e.backend === backend && e.active()).map((e) => e.name)].join('+');
}
