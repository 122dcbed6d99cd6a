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
  return new SerialWorkQueue(options);
}

class SerialWorkQueue implements WorkQueue {
  private readonly settleMs: number;
  private readonly maxSettleMs: number;
  private readonly defaultEstimate: number;
  private readonly maxPending: number;
  private readonly jobs: Job[] = [];
  private readonly usual = new Map<string, number>();
  private readonly holds: Array<() => boolean> = [];
  private running: { kind: string; startedAt: number } | null = null;
  private lastActivity = 0;
  private lastJobEnd = 0;
  private pumping = false;
  private idle: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.settleMs = options.settleMs ?? 25;
    this.maxSettleMs = options.maxSettleMs ?? 250;
    this.defaultEstimate = options.defaultEstimateMs ?? 250;
    this.maxPending = options.maxPending ?? 1000;
  }

  estimate(kind: string): number {
    let ahead = 0;
    for (const job of this.jobs) ahead += this.typical(job.kind);
    const running = this.running;
    if (running) ahead += Math.max(0, this.typical(running.kind) - (performance.now() - running.startedAt));
    return ahead + this.typical(kind);
  }

  typical(kind: string): number {
    return this.usual.get(kind) ?? this.defaultEstimate;
  }

  run<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    if (this.jobs.length >= this.maxPending) {
      return Promise.reject(new QueueFullError(`${this.jobs.length} commands are already waiting`));
    }
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ kind, fn, resolve: resolve as (v: unknown) => void, reject });
      void this.pump();
    });
  }

  noteActivity(): void {
    this.lastActivity = performance.now();
  }

  holdWhile(busy: () => boolean): void {
    this.holds.push(busy);
  }

  get pending(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  idleMs(): number {
    return this.jobs.length > 0 || this.running
      ? 0
      : performance.now() - Math.max(this.lastActivity, this.lastJobEnd);
  }

  drain(timeoutMs: number): Promise<boolean> {
    if (this.jobs.length === 0 && !this.running) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Waits until requests have been quiet for `settleMs` and no hold is busy, at most `maxSettleMs`. */
  private async settle(): Promise<void> {
    // Let the I/O already waiting (new requests, outgoing replies) be handled before blocking the loop.
    await new Promise<void>((r) => setImmediate(r));
    const start = performance.now();
    for (;;) {
      const now = performance.now();
      const quietFor = now - this.lastActivity;
      if (now - start >= this.maxSettleMs) return;
      if (quietFor >= this.settleMs && !this.holds.some((busy) => busy())) return;
      await new Promise<void>((r) => setTimeout(r, Math.max(1, this.settleMs - quietFor)));
    }
  }

  /** Runs the waiting jobs one after another; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let job = this.jobs[0]; job !== undefined; job = this.jobs[0]) {
        await this.settle();
        this.jobs.shift();
        await this.runJob(job);
      }
    } finally {
      this.pumping = false;
      const waiting = this.idle;
      this.idle = [];
      for (const done of waiting) done();
    }
  }

  private async runJob(job: Job): Promise<void> {
    const startedAt = performance.now();
    this.running = { kind: job.kind, startedAt };
    try {
      job.resolve(await job.fn());
    } catch (error) {
      job.reject(error);
    } finally {
      const took = performance.now() - startedAt;
      const before = this.usual.get(job.kind);
      // A moving average follows data growth without one odd run swinging the estimate.
      this.usual.set(job.kind, before === undefined ? took : before * 0.7 + took * 0.3);
      this.running = null;
      this.lastJobEnd = performance.now();
    }
  }
}
