/**
 * Publishing the App Home tab. The view is the same for everyone, so it is built once per state of the
 * data (data version, latest segment run, schedules, and the hour, since "this week" moves) and
 * published to a person only when what they last saw is out of date.
 */
import type { webApi } from '@slack/bolt';
import type { HomeView } from '@slack/types';
import { buildHomeView } from '../blocks/home-view.ts';
import { latestDeliveries } from '../digest/schedules.ts';
import type { Clock } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { audienceStatsFor } from '../queries/results.ts';
import { storedDefaultRun } from '../queries/segmentation.ts';
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

/** Creates the Home tab service over the store. */
export function createHomeTab(deps: {
  store: Store;
  clock: Clock;
  currency: string;
  logger: Logger;
  queue: WorkQueue;
}): HomeTab {
  const { store, clock, logger } = deps;
  /** What each person was last sent (the state key), in order of their last open. */
  const seen = new Map<string, string>();
  const inflight = new Map<string, Promise<void>>();
  let cached: { key: string; view: Promise<HomeView> } | null = null;

  /** What the view shows, apart from the time. */
  async function dataKey(): Promise<string> {
    const [meta, run, schedules, deliveries] = await Promise.all([
      store.audience.meta(),
      storedDefaultRun(store),
      store.digests.schedules(),
      store.digests.deliveries(),
    ]);
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
    return JSON.stringify([meta.dataVersion, meta.updatedAt, run?.id ?? null, run?.names ?? null, plans]);
  }

  // The hour is part of the state: "this week" moves, so a view older than an hour is redrawn on open.
  async function stateKey(): Promise<string> {
    return `${await dataKey()}|${Math.floor(clock().getTime() / HOUR)}`;
  }

  function view(key: string): Promise<HomeView> {
    if (cached?.key === key) return cached.view;
    // Stats over the whole audience are heavy: queue them like any command so acknowledgements stay fast.
    const built = deps.queue.run('home', async () => {
      const now = clock().getTime();
      const { profiles } = await store.audience.counts();
      const stats = profiles > 0 ? await audienceStatsFor(store, null, now) : null;
      return buildHomeView({
        stats,
        meta: { ...(await store.audience.meta()) },
        segmentRun: (await storedDefaultRun(store)) ?? null,
        schedules: [...(await store.digests.schedules())],
        deliveries: [...(await store.digests.deliveries())],
        currency: deps.currency,
        now,
      });
    });
    cached = { key, view: built };
    built.catch(() => {
      if (cached?.view === built) cached = null;
    });
    return built;
  }

  /**
   * Publishes to one person, one publish at a time per person (so an older view never lands after a
   * newer one), skipping it when they already have the current state unless `force`.
   */
  function publish(client: webApi.WebClient, userId: string, force: boolean): Promise<void> {
    // Known from now on, with nothing confirmed yet: a refresh meanwhile includes them.
    if (!seen.has(userId)) remember(userId, '');
    const run = (inflight.get(userId) ?? Promise.resolve()).then(async () => {
      const key = await stateKey();
      if (!force && seen.get(userId) === key) return;
      try {
        const homeView = await view(key);
        await client.views.publish({ user_id: userId, view: homeView });
        remember(userId, key);
      } catch (error) {
        remember(userId, '');
        logger.error('could not publish the App Home tab', { user: userId, ...describeError(error) });
      }
    });
    inflight.set(userId, run);
    void run.finally(() => {
      if (inflight.get(userId) === run) inflight.delete(userId);
    });
    return run;
  }

  function remember(userId: string, key: string): void {
    seen.delete(userId);
    seen.set(userId, key);
    if (seen.size > MAX_REMEMBERED) {
      const oldest = seen.keys().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
  }

  async function refresh(client: webApi.WebClient): Promise<void> {
    const key = await stateKey();
    const stale = [...seen.entries()].filter(([, k]) => k !== key).map(([user]) => user);
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
    watch(client, intervalMs) {
      // Only data changes trigger a push to everyone; the hourly redraw happens when people open the tab.
      let last: string | null = null;
      let running = false;
      const check = async () => {
        const now = await dataKey();
        if (last === null || now === last) {
          last = now;
          return;
        }
        last = now;
        await refresh(client);
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
    },
  };
}
