/**
 * Drives a connector the way the sync engine does, for connector tests: a ConnectorContext over the real global
 * fetch with a per-request timeout (as the engine wraps it), a clock the test moves, a sleep that records what was
 * asked and returns at once, and a drain that collects every batch of a run (or stops after some, like a crash).
 */
import type { Connector, ConnectorContext, SyncBatch } from '../../../src/connectors/connector.ts';

/** A context plus what the connector asked of it. */
export interface Harness {
  ctx: ConnectorContext;
  /** Every ctx.sleep(ms) the connector asked for. */
  sleeps: number[];
  /** Moves the clock. */
  setNow(ms: number): void;
}

/** Builds a context against `baseUrl`. */
export function harness(options: {
  baseUrl: string;
  credentials: Record<string, string>;
  settings?: Record<string, string>;
  now: number;
  timeoutMs?: number;
}): Harness {
  let now = options.now;
  const sleeps: number[] = [];
  const timeoutMs = options.timeoutMs ?? 5_000;
  const ctx: ConnectorContext = {
    fetch: (input, init) => globalThis.fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    now: () => new Date(now),
    baseUrl: options.baseUrl,
    credentials: options.credentials,
    settings: options.settings ?? {},
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return {
    ctx,
    sleeps,
    setNow(ms) {
      now = ms;
    },
  };
}

/** The outcome of one run: the batches that came out, and the error that ended it (if any). */
export interface Drained {
  batches: SyncBatch[];
  error: unknown;
}

/** Runs fetchChanges from `cursor`, collecting batches; stops after `maxBatches` (a crash) or at the first error. */
export async function drain(
  connector: Connector,
  ctx: ConnectorContext,
  cursor: string | null,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<Drained> {
  const batches: SyncBatch[] = [];
  try {
    for await (const batch of connector.fetchChanges(ctx, cursor)) {
      batches.push(batch);
      if (batches.length >= maxBatches) break;
    }
  } catch (error) {
    return { batches, error };
  }
  return { batches, error: undefined };
}

/** The cursor of the last batch. */
export function lastCursor(batches: readonly SyncBatch[]): string | null {
  return batches.at(-1)?.cursor ?? null;
}

/** All interactions / profiles / products / metrics of a run, flattened. */
export function flatten(batches: readonly SyncBatch[]) {
  return {
    interactions: batches.flatMap((b) => b.interactions),
    profiles: batches.flatMap((b) => b.profiles),
    products: batches.flatMap((b) => b.products),
    metrics: batches.flatMap((b) => b.metrics ?? []),
  };
}
