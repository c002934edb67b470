/**
 * Lets the event loop run (signal handlers, timers, progress output). The WASM and CPU engines
 * compute synchronously and their `data()` resolves in a microtask, so a training loop that only
 * awaits tensors never gives Node a chance to deliver SIGINT.
 */
export function yieldToEventLoop(): Promise<void> {
  // setImmediate is Node's; a browser page gets a macrotask from setTimeout.
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
