/**
 * The connectors' schedule, run inside the app the way the digest scheduler runs: a tick loop on the injected
 * Timers and Clock (src/domain/timers.ts) that, every minute, syncs each connection that is due (isDue: its
 * interval has passed, it is not paused, or its quota pause has ended). Connections are synced one after another,
 * never two at once in this process, and the sync engine's lease keeps other replicas off a connection it syncs.
 */
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { Logger } from '../logger.ts';
import { isDue } from './connections.ts';
import { type SyncDeps, type SyncOutcome, syncConnection } from './sync.ts';

/** The running connector schedule. */
export interface ConnectorSchedule {
  /** Runs the first tick and keeps ticking. */
  start(): void;
  /** Syncs every due connection once; concurrent calls share one run. */
  tick(): Promise<SyncOutcome[]>;
  /** Stops ticking and waits for the sync in progress. */
  stop(): Promise<void>;
}

/** Builds the schedule over the sync engine's dependencies. */
export function createConnectorSchedule(options: {
  deps: SyncDeps;
  timers?: Timers;
  logger?: Logger;
  /** Between ticks; default 60 s. */
  tickMs?: number;
}): ConnectorSchedule {
  const timers = options.timers ?? systemTimers;
  const tickMs = options.tickMs ?? 60_000;
  let running: Promise<SyncOutcome[]> | null = null;
  let timer: { cancel(): void } | null = null;
  let stopped = false;

  const runDue = async (): Promise<SyncOutcome[]> => {
    const { store, clock } = options.deps;
    const due = (await store.connections.list()).filter((c) => isDue(c, clock().getTime()));
    const outcomes: SyncOutcome[] = [];
    for (const connection of due) {
      if (stopped) break;
      try {
        const outcome = await syncConnection(options.deps, connection.id);
        options.logger?.info('connector sync', {
          connection: outcome.connection,
          status: outcome.status,
          rowsAdded: outcome.rowsAdded,
        });
        outcomes.push(outcome);
      } catch (error) {
        // One connection's bug must not stop the others' syncs.
        options.logger?.error('connector sync failed', { connection: connection.id, error: String(error) });
      }
    }
    return outcomes;
  };

  const tick = (): Promise<SyncOutcome[]> => {
    running ??= runDue().finally(() => {
      running = null;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      void tick().finally(schedule);
    }, tickMs);
  };

  return {
    start() {
      void tick().finally(schedule);
    },
    tick,
    async stop() {
      stopped = true;
      timer?.cancel();
      await running?.catch(() => undefined);
    },
  };
}
