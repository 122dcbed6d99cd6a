/**
 * A Bolt receiver for HTTP mode whose HTTP server runs in a worker thread (front-door-worker.ts).
 *
 * Why: engine work (stats, k-means, model fits) and store saves run synchronously on the main thread and
 * block it for up to seconds on a 100k-profile audience. With Bolt's HTTPReceiver a command arriving then
 * waits that long for its acknowledgement, and past 3 seconds Slack shows the user an error. Here the worker
 * checks the signature and acknowledges commands, buttons and events at once; Bolt then processes them on
 * the main thread exactly as before (middleware, listeners, respond()). Modal submissions and menus are
 * still acknowledged by Bolt, since their ack can carry an answer. `/healthz` is answered by the worker from
 * the health the main thread reports every second.
 */
import type { ListenOptions } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { App, Receiver } from '@slack/bolt';
import type { Logger } from '../logger.ts';
import type { FromWorker, FrontDoorSettings, ToWorker } from './front-door-protocol.ts';

/** How the front door listens and what it reports. */
export interface FrontDoorOptions {
  signingSecret: string;
  /** Socket Mode: the worker holds the socket too, so its acknowledgements never wait for the main thread. */
  socket?: { appToken: string; apiUrl?: string };
  logger: Logger;
  /** Health for `/healthz`: HTTP status and JSON body; called every second on the main thread. */
  health: () => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
  /** Called for every request handed to Bolt (the work queue waits while requests come in). */
  onRequest?: () => void;
  endpoint?: string;
  bodyLimit?: number;
  /** Bolt must ack modal submissions and menus within this (default 2500 ms), or the door answers empty. */
  ackTimeoutMs?: number;
  /**
   * Bolt acknowledged a request with an answer after the door had already answered empty (the main thread was
   * busy past the deadline). Slack never saw the answer, e.g. the errors of a form, so the app tells the person.
   */
  onLateAck?: (body: Record<string, unknown>, response: unknown) => void;
}

const HEALTH_EVERY_MS = 1000;
// How long an acknowledged request's body is kept, in case the door reports the ack came too late.
const LATE_ACK_WINDOW_MS = 10_000;

/** Bolt receiver with a worker-thread HTTP server that acknowledges Slack at once. */
export class FrontDoorReceiver implements Receiver {
  private app: App | null = null;
  private worker: Worker | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private listen: { port: number; host?: string } = { port: 3000 };
  private stopping = false;
  /** Bodies of requests Bolt acknowledged itself, kept briefly for a late-ack report. */
  private readonly acknowledged = new Map<number, Record<string, unknown>>();

  constructor(private readonly options: FrontDoorOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** Starts the worker listening on `listen` (a port, or { port, host }); resolves with the bound port. */
  async start(listen: number | ListenOptions = 3000): Promise<{ port: number }> {
    this.listen =
      typeof listen === 'number' ? { port: listen } : { port: listen.port ?? 0, host: listen.host };
    this.stopping = false;
    const port = await this.spawn();
    this.reportHealth();
    this.healthTimer = setInterval(() => this.reportHealth(), HEALTH_EVERY_MS);
    this.healthTimer.unref();
    // Later restarts (after a crash) must come back on the same port.
    this.listen = { ...this.listen, port };
    return { port };
  }

  /** Stops accepting requests; requests already handed to Bolt keep running. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    this.reportHealth(worker);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'stopped') {
          clearTimeout(timer);
          resolve();
        }
      });
      post(worker, { type: 'stop' });
    });
    await worker.terminate();
  }

  private spawn(): Promise<number> {
    const { options } = this;
    const worker = startWorker({
      signingSecret: options.signingSecret,
      port: this.listen.port,
      host: this.listen.host,
      endpoint: options.endpoint ?? '/slack/events',
      bodyLimit: options.bodyLimit ?? 4 * 1024 * 1024,
      ackTimeoutMs: options.ackTimeoutMs ?? 2500,
      socket: options.socket ? { appToken: options.socket.appToken, apiUrl: options.socket.apiUrl } : null,
    });
    this.worker = worker;
    return new Promise<number>((resolve, reject) => {
      // Ready once listening, and in Socket Mode once the socket is connected too.
      let listening = false;
      let port = 0;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'listening':
            port = m.port;
            if (!options.socket) {
              listening = true;
              resolve(port);
            }
            break;
          case 'connected':
            listening = true;
            resolve(port);
            break;
          case 'failed':
            if (!listening) reject(new Error(`the Slack front door could not start: ${m.error}`));
            else options.logger.error('the Slack front door failed', { error: m.error });
            break;
          case 'log':
            options.logger[m.level](`[front door] ${m.message}`, m.error ? { error: m.error } : undefined);
            break;
          case 'request':
            void this.dispatch(worker, m);
            break;
          case 'late-ack': {
            const body = this.acknowledged.get(m.id);
            this.acknowledged.delete(m.id);
            options.logger.warn('answered a Slack request after its deadline; Slack saw an empty answer', {
              type: body?.type,
            });
            if (body) options.onLateAck?.(body, m.response);
            break;
          }
          default:
            break;
        }
      });
      worker.on('error', (error) => {
        options.logger.error('the Slack front door crashed', { error });
        if (!listening) reject(error);
      });
      worker.on('exit', (code) => {
        if (this.stopping || this.worker !== worker) return;
        // A crashed door means Slack cannot reach us at all: bring it back, on the same port.
        options.logger.error('the Slack front door exited; restarting it', { code });
        this.worker = null;
        setTimeout(() => {
          if (this.stopping) return;
          this.spawn().catch((error: unknown) =>
            options.logger.error('could not restart the Slack front door', { error }),
          );
        }, 1000).unref();
      });
    });
  }

  private async dispatch(worker: Worker, m: Extract<FromWorker, { type: 'request' }>): Promise<void> {
    const app = this.app;
    if (!app) return;
    this.options.onRequest?.();
    let acked = m.acked;
    const ack = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      this.acknowledged.set(m.id, m.body);
      setTimeout(() => this.acknowledged.delete(m.id), LATE_ACK_WINDOW_MS).unref();
      post(worker, { type: 'ack', id: m.id, response: response ?? '' });
    };
    try {
      await app.processEvent({
        body: m.body,
        ack,
        ...(m.retryNum === undefined ? {} : { retryNum: m.retryNum }),
        ...(m.retryReason === undefined ? {} : { retryReason: m.retryReason }),
        customProperties: {},
      });
    } catch (error) {
      this.options.logger.error('Bolt failed to process a Slack request', { error });
    } finally {
      // Nothing acknowledged it (no listener matched): answer empty so Slack does not retry.
      if (!acked) await ack();
    }
  }

  private reportHealth(worker: Worker | null = this.worker): void {
    if (!worker) return;
    Promise.resolve()
      .then(() => this.options.health())
      .then(({ status, body }) => post(worker, { type: 'health', status, body }))
      .catch((error: unknown) => this.options.logger.warn('could not read health for /healthz', { error }));
  }
}

function post(worker: Worker, message: ToWorker): void {
  worker.postMessage(message);
}

/**
 * Starts the worker from whichever form this module runs as: compiled JavaScript loads the compiled worker
 * beside it; the TypeScript source (tsx in development, vitest in tests) has tsx's loader registered in the
 * new thread first, since a worker thread does not inherit the main thread's loader hooks.
 */
function startWorker(settings: FrontDoorSettings): Worker {
  const compiled = !import.meta.url.endsWith('.ts');
  const file = new URL(compiled ? './front-door-worker.js' : './front-door-worker.ts', import.meta.url);
  if (compiled) return new Worker(file, { workerData: settings });
  const loader = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(boot, { eval: true, workerData: settings });
}
