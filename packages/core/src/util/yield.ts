/**
 * Lets the event loop run (signal handlers, timers, progress output). The WASM and CPU engines
 * compute synchronously and their `data()` resolves in a microtask, so a training loop that only
 * awaits tensors never gives Node a chance to deliver SIGINT.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
