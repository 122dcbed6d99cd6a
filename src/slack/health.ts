import type { ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { SlackMode } from '../config.ts';
import type { Clock } from '../domain/types.ts';
import type { Store } from '../store/store.ts';
import type { WorkQueue } from './work-queue.ts';

/** The `/healthz` answer: liveness plus how fresh the data is, for load balancers and on-call people. */
export interface Health {
  status: 'ok' | 'no_data' | 'stopping';
  mode: SlackMode;
  uptimeSeconds: number;
  data: {
    dataVersion: number;
    updatedAt: string | null;
    ageSeconds: number | null;
    source: string | null;
    profiles: number;
    interactions: number;
    segmentRuns: number;
    schedules: number;
  };
  queue: { pending: number };
  /** `ready` once the index and default models for the current data are computed; `warming` until then. */
  models: 'warming' | 'ready';
}

/** Reads the current health; cheap (no scans), so it is safe to poll often. */
export async function readHealth(deps: {
  store: Store;
  clock: Clock;
  queue: WorkQueue;
  mode: SlackMode;
  startedAt: number;
  stopping: boolean;
  warm: boolean;
}): Promise<Health> {
  const { store } = deps;
  const [meta, counts, runs, schedules] = await Promise.all([
    store.audience.meta(),
    store.audience.counts(),
    store.segmentRuns.count(),
    store.digests.schedules(),
  ]);
  const now = deps.clock().getTime();
  const updatedAt = meta.updatedAt;
  return {
    status: deps.stopping ? 'stopping' : counts.profiles > 0 ? 'ok' : 'no_data',
    mode: deps.mode,
    uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
    data: {
      dataVersion: meta.dataVersion,
      updatedAt: updatedAt === null ? null : new Date(updatedAt).toISOString(),
      ageSeconds: updatedAt === null ? null : Math.max(0, Math.round((now - updatedAt) / 1000)),
      source: meta.source,
      profiles: counts.profiles,
      interactions: counts.interactions,
      segmentRuns: runs,
      schedules: schedules.length,
    },
    queue: { pending: deps.queue.pending },
    models: deps.warm ? 'ready' : 'warming',
  };
}

/** `GET /healthz` as a Bolt custom route: 200 with the health JSON, 503 while shutting down. */
export function healthRoute(read: () => Promise<Health>): CustomRoute {
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      read().then(
        (health) => send(res, health.status === 'stopping' ? 503 : 200, health),
        (error: unknown) => send(res, 500, { status: 'error', message: (error as Error).message }),
      );
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
