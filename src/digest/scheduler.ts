/**
 * The digest scheduler: runs inside the app and decides, from the clock it is given, which digests are due.
 *
 * Every tick (30 s, or sooner when an occurrence falls due) it looks for occurrences without a delivery
 * record and, per occurrence:
 * - paused schedule: records `skipped` ("paused at the time");
 * - missed by more than the grace period (DIGEST_GRACE_HOURS, the app was down): records `skipped` and logs;
 * - otherwise delivers, with a "sent late" note when it is more than a few minutes late.
 *
 * Exactly once: an occurrence is recorded `started` with store.commit (durable on disk) before its post,
 * then `delivered` or `failed`. A `started` record left by a crash may or may not have reached Slack; it
 * is never resent automatically (a duplicate in a channel is worse than a gap people can see and fix):
 * it is logged, marked "interrupted", and shown with a Retry button on the App Home.
 *
 * At start the scheduler saves the store, which takes the data file's lock: a second app on the same
 * file then refuses to start instead of sending every digest twice.
 */

import { buildDigestMessage } from '../blocks/digest-message.ts';
import { buildDeliveryProblemNotice, describeDeliveryProblem } from '../blocks/digest-notice.ts';
import { segmentSizesOverTime } from '../charts/specs.ts';
import type { RenderedChart } from '../charts/types.ts';
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { AudienceData, Clock, DeliveryRecord, DigestSchedule } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { type Store, StoreError } from '../store/store.ts';
import { type ContentCache, contentConfigKey, createContentCache, type DigestContent } from './content.ts';
import {
  createPacer,
  DEFAULT_POLICY,
  type DeliveryPolicy,
  type DigestTransport,
  type Pacer,
  postDigest,
} from './deliver.ts';
import { formatInZone, localStamp, occurrencesBetween } from './occurrences.ts';
import type { Actor, DigestPolicy } from './permissions.ts';
import {
  assertCanManage,
  deliveryIndex,
  findSchedule,
  nextOccurrenceOf,
  pruneDeliveries,
  putDelivery,
} from './schedules.ts';
import { DigestError, digestOptions } from './validate.ts';

const HOUR = 3_600_000;
/** How far back the first tick looks for missed occurrences (a monthly digest is due every ~5 weeks). */
const LOOKBACK_MS = 35 * 24 * HOUR;
/** Later ticks rescan this much before the previous one, in case the clock stepped back a little. */
const RESCAN_MS = HOUR;
/** Content of digests due this soon is computed ahead of time. */
const PREPARE_AHEAD_MS = 10 * 60_000;
/** Detail of a `started` record while this process sends it. */
export const SENDING = 'sending';
/** Detail prefix of a `started` record whose process stopped before it finished. */
export const INTERRUPTED = 'interrupted';

/** Settings and dependencies of the scheduler. */
export interface DigestSchedulerOptions {
  store: Store;
  clock: Clock;
  transport: DigestTransport;
  logger: Logger;
  config: { currency: string; minCohortSize: number; digestGraceHours: number; adminUserIds?: string[] };
  timers?: Timers;
  /** Longest wait between ticks (default 30 s). */
  tickMs?: number;
  /** Spacing of posts to one channel (default 1.1 s: Slack allows about one message per second per channel). */
  channelIntervalMs?: number;
  /** Posts in flight at once across channels (default 20). */
  concurrency?: number;
  policy?: DeliveryPolicy;
  /** Renders charts for digests that want one; without it, no chart is attached. */
  renderChart?: (spec: ReturnType<typeof segmentSizesOverTime>) => Promise<RenderedChart>;
}

/** What one tick did. */
export interface TickSummary {
  at: number;
  delivered: string[];
  failed: string[];
  skipped: string[];
}

/** The result of sending one occurrence now (run, retry). */
export interface DeliveryResult {
  key: string;
  scheduleId: string;
  channel: string;
  status: 'delivered' | 'failed';
  /** The Slack error code of a failure. */
  code: string | null;
  /** Whether the schedule is paused now (after this failure, or from before). */
  paused: boolean;
}

/** The running scheduler, also used by `/audience digest run|retry`. */
export interface DigestScheduler {
  /** Claims the data file, deals with deliveries interrupted by a crash, runs the first tick and keeps ticking. */
  start(): Promise<void>;
  /** Looks for due occurrences and delivers them; concurrent calls share one run. */
  tick(): Promise<TickSummary>;
  /** Sends a schedule's digest now (not tied to an occurrence). */
  runNow(scheduleId: string, actor: Actor): Promise<DeliveryResult>;
  /** Sends a failed, interrupted or skipped occurrence again, under its own key. */
  retry(key: string, actor: Actor): Promise<DeliveryResult>;
  /** Stops ticking and waits for deliveries in flight. */
  stop(): Promise<void>;
  readonly content: ContentCache;
  readonly graceMs: number;
}

interface Job {
  schedule: DigestSchedule;
  key: string;
  /** Null for "send now" and retries (no late note). */
  dueAt: number | null;
  lateByMs: number;
}

/** Builds a scheduler; call start() to claim the data file and begin ticking. */
export function createDigestScheduler(options: DigestSchedulerOptions): DigestScheduler {
  const { store, clock, transport, logger, config } = options;
  const timers = options.timers ?? systemTimers;
  const tickMs = options.tickMs ?? 30_000;
  const concurrency = Math.max(1, options.concurrency ?? 20);
  const graceMs = config.digestGraceHours * HOUR;
  const policy: DigestPolicy = { adminUserIds: config.adminUserIds ?? [] };
  const channelIntervalMs = options.channelIntervalMs ?? 1100;
  const pacer: Pacer = createPacer(timers, channelIntervalMs);
  /** How long the last save of `started` records took; sizes the next batch of rounds. */
  let lastSaveMs = 0;
  const content = createContentCache(store, config);
  const charts = new WeakMap<DigestContent, Promise<RenderedChart | null>>();
  /**
   * Outcomes of posts, applied to the store with the next save of a delivery batch rather than each on its
   * own: on a large store every save writes the whole file, and a batch of 1,000 would otherwise mean
   * 1,000 saves. Until then the occurrence reads `started`, which never leads to a resend.
   */
  let outcomes: Array<(d: AudienceData) => void> = [];
  const applyOutcomes = (d: AudienceData) => {
    const pending = outcomes;
    outcomes = [];
    for (const apply of pending) apply(d);
  };
  /** Keys being sent by this process right now. */
  const inflight = new Set<string>();
  let lastScan: number | null = null;
  let running: Promise<TickSummary> | null = null;
  let timer: { cancel(): void } | null = null;
  let stopped = false;
  const outstanding = new Set<Promise<unknown>>();

  function track<T>(promise: Promise<T>): Promise<T> {
    outstanding.add(promise);
    void promise.finally(() => outstanding.delete(promise)).catch(() => undefined);
    return promise;
  }

  async function start(): Promise<void> {
    const interrupted = store.data.deliveries.filter((d) => d.status === 'started' && !inflight.has(d.key));
    try {
      // This save takes the data file's lock (see the module comment), even when nothing else changed.
      const began = timers.monotonic();
      await store.commit((d) => {
        for (const record of interrupted) {
          if (record.detail?.startsWith(INTERRUPTED)) continue;
          putDelivery(d, {
            ...record,
            detail: `${INTERRUPTED}: the app stopped while sending it; not resent because it may have been posted`,
          });
        }
      });
      lastSaveMs = timers.monotonic() - began;
    } catch (error) {
      if (error instanceof StoreError && error.code === 'locked') {
        const owner = (
          error.cause as { owner?: { pid?: unknown; host?: unknown; since?: unknown } | null } | undefined
        )?.owner;
        const who =
          owner && typeof owner.pid === 'number'
            ? ` (process ${owner.pid} on ${String(owner.host)}, since ${new Date(Number(owner.since)).toISOString()})`
            : '';
        throw new StoreError(
          'locked',
          error.file,
          `Another Audience Insights app${who} is already running on ${error.file}, so this one will not start: ` +
            'two apps on one data file would send every digest twice. Stop the other one first, or give this one ' +
            `another DATA_FILE. If it is certainly not running, delete ${error.file}.lock.`,
          { cause: error },
        );
      }
      throw error;
    }
    for (const record of interrupted) {
      logger.warn(
        'a digest was being sent when the app stopped; not resending it (it may have been posted)',
        {
          key: record.key,
          schedule: record.schedule_id,
          fix: 'check the channel; press Retry on the App Home to send it again',
        },
      );
    }
    await tick().catch((error: unknown) => logger.error('digest tick failed', { error }));
  }

  function tick(): Promise<TickSummary> {
    if (running) return running;
    const run = track(runTick()).finally(() => {
      running = null;
      scheduleNext();
    });
    running = run;
    return run;
  }

  async function runTick(): Promise<TickSummary> {
    const now = clock().getTime();
    const from = lastScan === null ? now - LOOKBACK_MS : lastScan - RESCAN_MS;
    lastScan = now;
    const summary: TickSummary = { at: now, delivered: [], failed: [], skipped: [] };
    const index = deliveryIndex(store.data);
    const jobs: Job[] = [];
    const skipped: DeliveryRecord[] = [];
    for (const schedule of store.data.schedules) {
      for (const o of occurrencesBetween(schedule, Math.max(from, schedule.created_at), now)) {
        if (index.has(o.key) || inflight.has(o.key)) continue;
        const late = now - o.at;
        if (schedule.paused) {
          skipped.push({
            key: o.key,
            schedule_id: schedule.id,
            status: 'skipped',
            at: now,
            detail: 'paused at the time',
          });
        } else if (late > graceMs) {
          const detail = `missed by ${hours(late)} while the app was not running (grace period ${config.digestGraceHours} h, DIGEST_GRACE_HOURS)`;
          skipped.push({ key: o.key, schedule_id: schedule.id, status: 'skipped', at: now, detail });
          logger.warn('skipped a digest missed while the app was not running', {
            key: o.key,
            channel: schedule.channel_id,
            due: new Date(o.at).toISOString(),
            graceHours: config.digestGraceHours,
          });
        } else {
          jobs.push({ schedule, key: o.key, dueAt: o.at, lateByMs: late });
        }
      }
    }
    if (skipped.length > 0) {
      store.update((d) => {
        for (const record of skipped) putDelivery(d, record);
      });
      summary.skipped.push(...skipped.map((r) => r.key));
    }
    if (jobs.length > 0) {
      // Delivering saves everything pending, the skipped records included.
      const results = await deliver(jobs, now);
      for (const r of results) (r.status === 'delivered' ? summary.delivered : summary.failed).push(r.key);
    } else if (skipped.length > 0) {
      await store
        .flush()
        .catch((error: unknown) => logger.error('could not save digest deliveries', { error }));
    }
    await prepareContent(now);
    return summary;
  }

  /**
   * Computes the content of digests due in the next few minutes ahead of time (it takes seconds on a large
   * audience), so they go out on the minute. On changed data it is computed again when due.
   */
  async function prepareContent(now: number): Promise<void> {
    const wanted = new Map<string, ReturnType<typeof digestOptions>>();
    for (const s of store.data.schedules) {
      if (s.paused) continue;
      const at = nextOccurrenceOf(s, now);
      if (at === null || at - now > PREPARE_AHEAD_MS) continue;
      const opts = digestOptions(s.options);
      wanted.set(contentConfigKey(opts), opts);
    }
    for (const [key, opts] of wanted) {
      try {
        await content.get(opts, now);
      } catch (error) {
        logger.error('could not compute digest content ahead of time', { config: key, error });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Next tick: in `tickMs`, or just after the next occurrence falls due if that is sooner. */
  function scheduleNext(): void {
    timer?.cancel();
    timer = null;
    if (stopped) return;
    const now = clock().getTime();
    let next = Number.POSITIVE_INFINITY;
    for (const s of store.data.schedules) {
      if (s.paused) continue;
      const at = nextOccurrenceOf(s, now);
      if (at !== null && at < next) next = at;
    }
    // Never sooner than a second: with a pinned clock (FIXED_NOW) time does not move at all.
    const delay = Math.max(1000, Math.min(tickMs, next - now + 50));
    timer = timers.setTimeout(() => {
      tick().catch((error: unknown) => logger.error('digest tick failed', { error }));
    }, delay);
  }

  /**
   * Delivers jobs in rounds of at most one per channel: each round's `started` records are committed in one
   * save before any of its posts, so a crash leaves at most one round in doubt and no occurrence is sent twice.
   */
  async function deliver(jobs: Job[], now: number): Promise<DeliveryResult[]> {
    for (const job of jobs) inflight.add(job.key);
    try {
      const contents = new Map<string, DigestContent | Error>();
      for (const job of jobs) {
        const opts = digestOptions(job.schedule.options);
        const key = contentConfigKey(opts);
        if (contents.has(key)) continue;
        try {
          contents.set(key, await content.get(opts, now));
        } catch (error) {
          logger.error('could not compute digest content', { config: key, error });
          contents.set(key, error instanceof Error ? error : new Error(String(error)));
        }
        // Content is synchronous work: let Slack requests in between configurations.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const byChannel = new Map<string, Job[]>();
      for (const job of jobs) {
        const list = byChannel.get(job.schedule.channel_id) ?? [];
        list.push(job);
        byChannel.set(job.schedule.channel_id, list);
      }
      const results: DeliveryResult[] = [];
      const rounds: Job[][] = [];
      for (let round = 0; ; round++) {
        const batch = [...byChannel.values()]
          .map((list) => list[round])
          .filter((j): j is Job => j !== undefined);
        if (batch.length === 0) break;
        rounds.push(batch);
      }
      const markStarted = async (batch: Job[]) => {
        const began = timers.monotonic();
        await store.commit((d) => {
          applyOutcomes(d);
          for (const job of batch) {
            putDelivery(d, {
              key: job.key,
              schedule_id: job.schedule.id,
              status: 'started',
              at: now,
              detail: SENDING,
            });
          }
        });
        lastSaveMs = timers.monotonic() - began;
      };
      // Each save marks as many rounds as can be posted while the next save runs (one round per pause
      // between posts to a channel), and runs while the rounds before it post: on a large store, where a
      // save takes seconds, saving and pacing overlap instead of adding up. After a crash at most the
      // rounds of two saves are in doubt.
      const roundsPerSave = () =>
        Math.max(1, Math.min(10, Math.ceil(lastSaveMs / Math.max(1, channelIntervalMs))));
      let durableUntil = Math.min(rounds.length, roundsPerSave());
      let saved: Promise<void> | null = markStarted(rounds.slice(0, durableUntil).flat());
      for (let r = 0; r < rounds.length; ) {
        try {
          await saved;
        } catch (error) {
          // Without a durable `started` record a post could be repeated after a crash: send nothing more.
          const rest = rounds.slice(r).flat();
          logger.error('could not save digest deliveries; not sending them', { error, count: rest.length });
          const at = clock().getTime();
          store.update((d) => {
            for (const job of rest) {
              const detail =
                'not sent: the data file could not be saved (see the log); press Retry once it can';
              putDelivery(d, { key: job.key, schedule_id: job.schedule.id, status: 'failed', at, detail });
            }
          });
          for (const job of rest) {
            const channel = job.schedule.channel_id;
            results.push({
              key: job.key,
              scheduleId: job.schedule.id,
              channel,
              status: 'failed',
              code: 'store_error',
              paused: job.schedule.paused,
            });
          }
          break;
        }
        const from = durableUntil;
        const to = Math.min(rounds.length, from + roundsPerSave());
        saved = from < to ? markStarted(rounds.slice(from, to).flat()) : null;
        // A failed save of later rounds must surface when they are due, not as an unhandled rejection.
        saved?.catch(() => undefined);
        for (; r < from; r++) {
          results.push(
            ...(await mapLimit(rounds[r] as Job[], concurrency, (job) => deliverJob(job, contents))),
          );
        }
        durableUntil = to;
      }
      await store
        .commit((d) => {
          applyOutcomes(d);
          pruneDeliveries(d, now);
        })
        .catch((error: unknown) => logger.error('could not save digest deliveries', { error }));
      return results;
    } finally {
      for (const job of jobs) inflight.delete(job.key);
    }
  }

  async function deliverJob(job: Job, contents: Map<string, DigestContent | Error>): Promise<DeliveryResult> {
    const { schedule } = job;
    const opts = digestOptions(schedule.options);
    const built = contents.get(contentConfigKey(opts));
    const context = { key: job.key, schedule: schedule.id, channel: schedule.channel_id };
    if (!(built && !(built instanceof Error))) {
      return finish(job, { ok: false, code: 'content_error', pause: false, attempts: 0 });
    }
    const message = buildDigestMessage(built, {
      scheduleId: schedule.id,
      cadence: schedule.cadence,
      timeZone: schedule.time_zone,
      dueAt: job.dueAt,
      lateByMs: job.lateByMs,
      currency: config.currency,
      minCohortSize: config.minCohortSize,
    });
    const outcome = await postDigest(
      { transport, timers, pacer, logger, policy: options.policy ?? DEFAULT_POLICY },
      { channel: schedule.channel_id, text: message.text, blocks: message.blocks, key: job.key },
      context,
    );
    const result = await finish(job, outcome);
    if (outcome.ok && outcome.ts && opts.chart)
      await attachChart(built, outcome.channel, outcome.ts, context);
    return result;
  }

  async function finish(job: Job, outcome: Awaited<ReturnType<typeof postDigest>>): Promise<DeliveryResult> {
    const { schedule } = job;
    const at = clock().getTime();
    if (outcome.ok) {
      outcomes.push((d) => {
        putDelivery(d, {
          key: job.key,
          schedule_id: schedule.id,
          status: 'delivered',
          at,
          detail: `${outcome.channel}${outcome.ts ? ` ${outcome.ts}` : ''}${outcome.joined ? ' (joined the channel)' : ''}`,
        });
        const s = d.schedules.find((x) => x.id === schedule.id);
        if (s) {
          // A channel typed as #name is known by its id from now on; a past transient error is over.
          if (s.channel_id.startsWith('#') && /^[CGD][A-Z0-9]+$/.test(outcome.channel))
            s.channel_id = outcome.channel;
          s.last_error = null;
        }
      });
      logger.info('digest delivered', { key: job.key, channel: outcome.channel, attempts: outcome.attempts });
      const s = store.data.schedules.find((x) => x.id === schedule.id);
      return {
        key: job.key,
        scheduleId: schedule.id,
        channel: outcome.channel,
        status: 'delivered',
        code: null,
        paused: s?.paused ?? false,
      };
    }
    const problem = describeDeliveryProblem(outcome.code, schedule.channel_id, schedule.id);
    outcomes.push((d) => {
      putDelivery(d, {
        key: job.key,
        schedule_id: schedule.id,
        status: 'failed',
        at,
        detail: problem.reason,
      });
      const s = d.schedules.find((x) => x.id === schedule.id);
      if (s) {
        s.last_error = problem.reason;
        if (outcome.pause) s.paused = true;
      }
    });
    logger.error('digest not delivered', {
      key: job.key,
      channel: schedule.channel_id,
      code: outcome.code,
      paused: outcome.pause,
    });
    if (outcome.pause) {
      const notice = buildDeliveryProblemNotice({
        scheduleId: schedule.id,
        channel: schedule.channel_id,
        problem,
        due: job.dueAt === null ? null : formatInZone(job.dueAt, schedule.time_zone),
      });
      try {
        await transport.notifyUser(schedule.owner_id, notice);
      } catch (error) {
        logger.error('could not tell the owner about a paused digest', {
          key: job.key,
          owner: schedule.owner_id,
          error,
        });
      }
    }
    const s = store.data.schedules.find((x) => x.id === schedule.id);
    return {
      key: job.key,
      scheduleId: schedule.id,
      channel: schedule.channel_id,
      status: 'failed',
      code: outcome.code,
      paused: outcome.pause || (s?.paused ?? false),
    };
  }

  /** Posts the segment-sizes chart in the digest's thread; a failure is logged and changes nothing else. */
  async function attachChart(
    built: DigestContent,
    channel: string,
    ts: string,
    context: Record<string, unknown>,
  ) {
    const render = options.renderChart;
    if (!render || !transport.uploadChart || built.sizesOverTime.length === 0) return;
    let chart = charts.get(built);
    if (!chart) {
      chart = render(segmentSizesOverTime(built.sizesOverTime)).catch((error: unknown) => {
        logger.warn('could not render the digest chart', { ...context, error });
        return null;
      });
      charts.set(built, chart);
    }
    const rendered = await chart;
    if (!rendered) return;
    const result = await transport.uploadChart(channel, ts, rendered);
    if (!result.ok)
      logger.warn('digest chart not attached; the digest text was delivered', {
        ...context,
        error: result.error,
      });
  }

  async function sendOne(job: Job): Promise<DeliveryResult> {
    if (inflight.has(job.key)) throw new DigestError(`${job.key} is being sent right now`);
    const [result] = await deliver([job], clock().getTime());
    if (!result) throw new DigestError(`${job.key} was not sent`);
    return result;
  }

  return {
    start,
    tick,
    async runNow(scheduleId, actor) {
      const schedule = findSchedule(store.data, scheduleId);
      assertCanManage(schedule, actor, 'send', policy);
      const now = clock().getTime();
      const key = `${schedule.id}:now-${localStamp(now, schedule.time_zone)}`;
      if (deliveryIndex(store.data).has(key)) {
        throw new DigestError(`${schedule.id} was already sent this minute; wait a minute to send it again`);
      }
      return track(sendOne({ schedule, key, dueAt: null, lateByMs: 0 }));
    },
    async retry(key, actor) {
      const record = deliveryIndex(store.data).get(key.trim());
      if (!record)
        throw new DigestError(`there is no delivery ${key}; \`/audience digest list\` shows failed ones`);
      const schedule = findSchedule(store.data, record.schedule_id);
      assertCanManage(schedule, actor, 'retry', policy);
      if (record.status === 'delivered')
        throw new DigestError(`${key} was already delivered; nothing to retry`);
      if (
        inflight.has(record.key) ||
        (record.status === 'started' && !record.detail?.startsWith(INTERRUPTED))
      ) {
        throw new DigestError(`${key} is being sent right now`);
      }
      return track(sendOne({ schedule, key: record.key, dueAt: null, lateByMs: 0 }));
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      timer = null;
      await Promise.allSettled([...outstanding]);
    },
    content,
    graceMs,
  };
}

/** Creates and starts a scheduler (see DigestScheduler.start). */
export async function startDigestScheduler(options: DigestSchedulerOptions): Promise<DigestScheduler> {
  const scheduler = createDigestScheduler(options);
  await scheduler.start();
  return scheduler;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function hours(ms: number): string {
  const h = ms / HOUR;
  if (h < 48) return `${Math.round(h * 10) / 10} h`;
  return `${Math.round(h / 24)} days`;
}
