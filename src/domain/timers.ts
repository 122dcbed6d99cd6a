/**
 * Waiting, as the scheduler and the deliverer need it. Passed in as a dependency so tests and benchmarks
 * decide how time passes; the wall clock is separate (`Clock`): what reads it on its own (the scheduler, retention,
 * the warm-up, Home and health) gets one passed in.
 */

/** Timers: a cancellable callback, a sleep, and a monotonic reading for pacing (not the wall clock). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): { cancel(): void };
  sleep(ms: number): Promise<void>;
  /** Milliseconds from an arbitrary origin that never jumps (for spacing posts, never for dates). */
  monotonic(): number;
}

/** Node's timers; the scheduler's tick timer does not keep the process alive by itself. */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  monotonic: () => performance.now(),
};
