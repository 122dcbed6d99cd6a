/**
 * Runs command work one job at a time, after Slack has been acknowledged.
 *
 * Engine work is synchronous CPU work on the one event loop: while it runs, no request can be read or
 * acknowledged. So jobs never start inside the request that queued them, and before each job the queue
 * waits until incoming requests have gone quiet for a moment (bounded, so a steady stream cannot starve
 * the work). A burst of commands is thus acknowledged first and answered after. The queue also learns how
 * long each kind of job takes, so callers can tell in advance when an answer will be slow.
 */

/** Raised when too much work is already waiting; the caller tells the user to try again shortly. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/** How the queue paces work. */
export interface WorkQueueOptions {
  /** Requests must have been quiet this long before a job starts (default 25 ms). */
  settleMs?: number;
  /** …but a job never waits longer than this for quiet (default 250 ms). */
  maxSettleMs?: number;
  /** Guess for a kind of job never seen before (default 250 ms). */
  defaultEstimateMs?: number;
  /** Jobs allowed to wait at once (default 1000). */
  maxPending?: number;
}

/** A serial queue of command work. */
export interface WorkQueue {
  /** Milliseconds until a new job of `kind` would likely be done: the work ahead plus its own usual time. */
  estimate(kind: string): number;
  /** How long a job of `kind` usually takes (a moving average; a default guess before the first one). */
  typical(kind: string): number;
  /** Queues `fn`; resolves or rejects with its result. Throws QueueFullError when the queue is full. */
  run<T>(kind: string, fn: () => Promise<T>): Promise<T>;
  /** Tells the queue a request just arrived, so the next job waits for the burst to be acknowledged. */
  noteActivity(): void;
  /** Adds a check that holds back the next job while it returns true (e.g. requests not yet answered). */
  holdWhile(busy: () => boolean): void;
  /** Jobs waiting or running. */
  readonly pending: number;
  /** Milliseconds since the queue last saw a request or finished a job (0 while a job waits or runs). */
  idleMs(): number;
  /** Resolves true once every job has finished, or false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
}

interface Job {
  kind: string;
  fn: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Creates a serial work queue. */
export function createWorkQueue(options: WorkQueueOptions = {}): WorkQueue {
  const settleMs = options.settleMs ?? 25;
  const maxSettleMs = options.maxSettleMs ?? 250;
  const defaultEstimate = options.defaultEstimateMs ?? 250;
  const maxPending = options.maxPending ?? 1000;
  const jobs: Job[] = [];
  const typical = new Map<string, number>();
  let running: { kind: string; startedAt: number } | null = null;
  let lastActivity = 0;
  let lastJobEnd = 0;
  const holds: Array<() => boolean> = [];
  let pumping = false;
  let idle: Array<() => void> = [];

  const usual = (kind: string) => typical.get(kind) ?? defaultEstimate;

  async function settle(): Promise<void> {
    // Let the I/O already waiting (new requests, outgoing replies) be handled before blocking the loop.
    await new Promise<void>((r) => setImmediate(r));
    const start = performance.now();
    for (;;) {
      const now = performance.now();
      const quietFor = now - lastActivity;
      if (now - start >= maxSettleMs) return;
      if (quietFor >= settleMs && !holds.some((busy) => busy())) return;
      await new Promise<void>((r) => setTimeout(r, Math.max(1, settleMs - quietFor)));
    }
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      for (let job = jobs[0]; job !== undefined; job = jobs[0]) {
        await settle();
        jobs.shift();
        running = { kind: job.kind, startedAt: performance.now() };
        try {
          job.resolve(await job.fn());
        } catch (error) {
          job.reject(error);
        } finally {
          const took = performance.now() - running.startedAt;
          const before = typical.get(job.kind);
          // A moving average follows data growth without one odd run swinging the estimate.
          typical.set(job.kind, before === undefined ? took : before * 0.7 + took * 0.3);
          running = null;
          lastJobEnd = performance.now();
        }
      }
    } finally {
      pumping = false;
      const waiting = idle;
      idle = [];
      for (const done of waiting) done();
    }
  }

  return {
    estimate(kind) {
      let ahead = 0;
      for (const job of jobs) ahead += usual(job.kind);
      if (running) ahead += Math.max(0, usual(running.kind) - (performance.now() - running.startedAt));
      return ahead + usual(kind);
    },
    typical: usual,
    run<T>(kind: string, fn: () => Promise<T>): Promise<T> {
      if (jobs.length >= maxPending) {
        return Promise.reject(new QueueFullError(`${jobs.length} commands are already waiting`));
      }
      return new Promise<T>((resolve, reject) => {
        jobs.push({ kind, fn, resolve: resolve as (v: unknown) => void, reject });
        void pump();
      });
    },
    noteActivity() {
      lastActivity = performance.now();
    },
    holdWhile(busy) {
      holds.push(busy);
    },
    get pending() {
      return jobs.length + (running ? 1 : 0);
    },
    idleMs() {
      return jobs.length > 0 || running ? 0 : performance.now() - Math.max(lastActivity, lastJobEnd);
    },
    drain(timeoutMs) {
      if (jobs.length === 0 && !running) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
        idle.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
