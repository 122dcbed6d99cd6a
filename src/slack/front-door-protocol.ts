/**
 * The messages between the front door's worker thread (front-door-worker.ts) and its receiver on the main
 * thread (front-door-receiver.ts). Types only: the worker imports nothing at run time but Node itself.
 */

/** What the worker is started with. */
export interface FrontDoorSettings {
  signingSecret: string;
  port: number;
  host: string | undefined;
  endpoint: string;
  bodyLimit: number;
  ackTimeoutMs: number;
  /** Socket Mode: the thread also holds the socket (and the HTTP server serves only /healthz). */
  socket: { appToken: string; apiUrl: string | undefined } | null;
}

/** From the worker to the main thread. */
export type FromWorker =
  | { type: 'listening'; port: number }
  | { type: 'connected' }
  | { type: 'failed'; error: string }
  | { type: 'stopped' }
  | { type: 'log'; level: 'warn' | 'error'; message: string; error?: string }
  | { type: 'late-ack'; id: number; response: unknown }
  | {
      type: 'request';
      id: number;
      acked: boolean;
      body: Record<string, unknown>;
      retryNum?: number;
      retryReason?: string;
    };

/** From the main thread to the worker. */
export type ToWorker =
  | { type: 'health'; status: number; body: unknown }
  | { type: 'ack'; id: number; response: unknown }
  | { type: 'stop' };
