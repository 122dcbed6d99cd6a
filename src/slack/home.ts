/**
 * Publishing the App Home tab. The view is the same for everyone, so it is built once per state of the
 * data (data version, latest segment run, schedules, and the hour, since "this week" moves) and
 * published to a person only when what they last saw is out of date.
 */
import type { webApi } from '@slack/bolt';
import type { HomeView } from '@slack/types';
import { buildHomeView } from '../blocks/home-view.ts';
import { latestDeliveries, scheduleStatuses } from '../digest/schedules.ts';
import type { Clock } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { audienceStatsFor } from '../queries/results.ts';
import { storedDefaultHeader } from '../queries/segmentation.ts';
import type { Store } from '../store/store.ts';
import { describeError } from './errors.ts';
import type { WorkQueue } from './work-queue.ts';

/** The Home tab service used by the app_home_opened listener and by `refreshHome`. */
export interface HomeTab {
  /** Someone opened the Home tab: publish the overview unless they already have the current one. */
  opened(client: webApi.WebClient, userId: string, hasView: boolean): Promise<void>;
  /** Re-publishes for everyone who opened the tab since start whose view is out of date. Never throws. */
  refresh(client: webApi.WebClient): Promise<void>;
  /** Checks every `intervalMs` whether the data changed and refreshes if so; returns a stop function. */
  watch(client: webApi.WebClient, intervalMs: number): () => void;
}

const HOUR = 3_600_000;
// People remembered for refreshes; the oldest are forgotten first (they get a fresh view on their next open).
const MAX_REMEMBERED = 5000;
const PUBLISH_CONCURRENCY = 3;

interface HomeDeps {
  store: Store;
  clock: Clock;
  currency: string;
  logger: Logger;
  queue: WorkQueue;
}

/** Creates the Home tab service over the store. */
export function createHomeTab(deps: HomeDeps): HomeTab {
  const { clock, logger } = deps;
  const seen = createSeenList();
  const inflight = new Map<string, Promise<void>>();
  const view = createViewCache(deps);

  // The hour is part of the state: "this week" moves, so a view older than an hour is redrawn on open.
  async function stateKey(): Promise<string> {
    return `${await homeDataKey(deps.store)}|${Math.floor(clock().getTime() / HOUR)}`;
  }

  /**
   * Publishes to one person, one publish at a time per person (so an older view never lands after a
   * newer one), skipping it when they already have the current state unless `force`.
   */
  function publish(client: webApi.WebClient, userId: string, force: boolean): Promise<void> {
    // Known from now on, with nothing confirmed yet: a refresh meanwhile includes them.
    if (!seen.has(userId)) seen.remember(userId, '');
    const run = (inflight.get(userId) ?? Promise.resolve()).then(async () => {
      const key = await stateKey();
      if (!force && seen.get(userId) === key) return;
      try {
        await client.views.publish({ user_id: userId, view: await view(key) });
        seen.remember(userId, key);
      } catch (error) {
        seen.remember(userId, '');
        logger.error('could not publish the App Home tab', { user: userId, ...describeError(error) });
      }
    });
    inflight.set(userId, run);
    void run.finally(() => {
      if (inflight.get(userId) === run) inflight.delete(userId);
    });
    return run;
  }

  async function refresh(client: webApi.WebClient): Promise<void> {
    const stale = seen.staleFor(await stateKey());
    for (let i = 0; i < stale.length; i += PUBLISH_CONCURRENCY) {
      await Promise.all(stale.slice(i, i + PUBLISH_CONCURRENCY).map((user) => publish(client, user, false)));
    }
  }

  return {
    async opened(client, userId, hasView) {
      if (hasView && seen.get(userId) === (await stateKey())) return;
      // Without a view of ours in the event, the person has never seen one: publish whatever we remember.
      await publish(client, userId, !hasView);
    },
    refresh,
    watch: (client, intervalMs) =>
      watchData(
        () => homeDataKey(deps.store),
        () => refresh(client),
        logger,
        intervalMs,
      ),
  };
}

/** What the Home tab shows besides the stats: the data's meta, the default segmentation, the digests. */
async function readHomeState(store: Store) {
  const [meta, run, schedules, deliveries, connections] = await Promise.all([
    store.audience.meta(),
    storedDefaultHeader(store),
    store.digests.schedules(),
    store.digests.deliveries(),
    store.connections.list(),
  ]);
  // Never the sealed credentials: the view gets everything else.
  const summaries = connections.map(({ credentials: _sealed, ...rest }) => rest);
  return { meta, run, schedules, deliveries, connections: summaries };
}

/** What the view shows, apart from the time. */
async function homeDataKey(store: Store): Promise<string> {
  const { meta, run, schedules, deliveries, connections } = await readHomeState(store);
  // A digest's latest delivery status is shown too, so a delivery, failure or retry refreshes the view.
  const latest = latestDeliveries(deliveries);
  const plans = schedules.map((s) => [
    s.id,
    s.channel_id,
    s.cadence,
    s.weekdays,
    s.local_time,
    s.time_zone,
    s.paused,
    s.last_error,
    latest.get(s.id)?.key ?? null,
    latest.get(s.id)?.status ?? null,
  ]);
  const links = connections.map((c) => [
    c.id,
    c.paused,
    c.last_sync_at,
    c.last_sync_status,
    c.rows_added,
    c.next_run_at,
    c.last_error,
  ]);
  return JSON.stringify([
    meta.dataVersion,
    meta.updatedAt,
    run?.id ?? null,
    run?.names ?? null,
    plans,
    links,
  ]);
}

/** The view for a state key, built once per key; a failed build is forgotten so the next open tries again. */
function createViewCache(deps: HomeDeps): (key: string) => Promise<HomeView> {
  let cached: { key: string; view: Promise<HomeView> } | null = null;
  return (key) => {
    if (cached?.key === key) return cached.view;
    // Stats over the whole audience are heavy: queue them like any command so acknowledgements stay fast.
    const built = deps.queue.run('home', () => buildHome(deps.store, deps.currency, deps.clock().getTime()));
    cached = { key, view: built };
    built.catch(() => {
      if (cached?.view === built) cached = null;
    });
    return built;
  };
}

/** Reads what the Home tab shows from the store and builds the view. */
async function buildHome(store: Store, currency: string, now: number): Promise<HomeView> {
  const { profiles } = await store.audience.counts();
  const stats = profiles > 0 ? await audienceStatsFor(store, null, now) : null;
  const { meta, run, schedules, deliveries, connections } = await readHomeState(store);
  return buildHomeView({
    connections,
    stats,
    meta: { ...meta },
    segmentRun: run ?? null,
    schedules: [...schedules],
    // The same statuses as `/audience digest list`: next delivery in the schedule's zone, latest record.
    statuses: scheduleStatuses({ schedules, deliveries }, now),
    currency,
  });
}

/** What each person was last sent (the state key), in order of their last open; the oldest are forgotten first. */
function createSeenList() {
  const seen = new Map<string, string>();
  return {
    has: (userId: string) => seen.has(userId),
    get: (userId: string) => seen.get(userId),
    remember(userId: string, key: string): void {
      seen.delete(userId);
      seen.set(userId, key);
      if (seen.size > MAX_REMEMBERED) {
        const oldest = seen.keys().next().value;
        if (oldest !== undefined) seen.delete(oldest);
      }
    },
    /** The people whose last view is not `key`. */
    staleFor: (key: string) => [...seen.entries()].filter(([, k]) => k !== key).map(([user]) => user),
  };
}

/**
 * Checks every `intervalMs` whether the data key changed and refreshes if so; returns a stop function.
 * Only data changes trigger a push to everyone; the hourly redraw happens when people open the tab.
 */
function watchData(
  dataKey: () => Promise<string>,
  refresh: () => Promise<void>,
  logger: Logger,
  intervalMs: number,
): () => void {
  let last: string | null = null;
  let running = false;
  const check = async () => {
    const now = await dataKey();
    if (last === null || now === last) {
      last = now;
      return;
    }
    last = now;
    await refresh();
  };
  void dataKey().then((key) => {
    last ??= key;
  });
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    check()
      .catch((error: unknown) => logger.error('App Home refresh failed', { error }))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
