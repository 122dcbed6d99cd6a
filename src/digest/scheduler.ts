/**
 * The digest scheduler: a small loop that runs inside the app. Every tick (30 s, or sooner when an occurrence
 * falls due) it reads the clock, asks the pure planner (planner.ts) what is due, writes the skipped records and
 * delivers the rest in batches (batch.ts); between ticks it computes the content of digests due soon.
 *
 * On the data file, the scheduler saves the store at start, which takes the file's lock: a second app on the
 * same file then refuses to start instead of sending every digest twice. `started` records left by a crash are
 * marked interrupted there and never resent automatically (see planner.ts).
 *
 * On a database shared by several replicas (`store.occurrences.shared`) every replica runs this loop: each
 * occurrence is claimed before it is prepared (batch.ts), claims are renewed every third of the lease while the
 * replica lives, and the occurrences of a replica that died (its leases ran out) are due again to whoever ticks
 * next, which looks in the channel first if the dead one had started posting.
 */

import type { segmentSizesOverTime } from '../charts/specs.ts';
import type { RenderedChart } from '../charts/types.ts';
import { systemTimers, type Timers } from '../domain/timers.ts';
import type { Clock, DeliveryRecord } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { type Store, StoreError } from '../store/store.ts';
import { type BatchContext, deliverBatch } from './batch.ts';
import { type ContentCache, contentConfigKey, createContentCache } from './content.ts';
import { createPacer, DEFAULT_POLICY, type DeliveryPolicy, type DigestTransport } from './deliver.ts';
import type { Actor, DigestPolicy } from './permissions.ts';
import {
  type DeliveryJob,
  dueSoon,
  nextTickDelay,
  planInterrupted,
  planRunNow,
  planTick,
  retryRefusal,
  scanFrom,
  type TickPlan,
} from './planner.ts';
import { assertCanManage, deliveryIndex, findSchedule } from './schedules.ts';
import { createOutcomeQueue, type DeliveryResult } from './send.ts';
import { DigestError, digestOptions } from './validate.ts';

export { INTERRUPTED, SENDING } from './planner.ts';
export type { DeliveryResult } from './send.ts';

const HOUR = 3_600_000;

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
  /** How long a claim on an occurrence lasts without renewal (default 60 s; see OccurrenceClaims). */
  leaseMs?: number;
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

/** The loop's own state. */
interface Loop {
  ctx: BatchContext;
  options: DigestSchedulerOptions;
  policy: DigestPolicy;
  /** Keys being sent by this process right now. */
  inflight: Set<string>;
  lastScan: number | null;
  running: Promise<TickSummary> | null;
  timer: { cancel(): void } | null;
  stopped: boolean;
  outstanding: Set<Promise<unknown>>;
  /** Occurrences another replica holds or is posting: look again once its lease could have run out. */
  elsewhere: boolean;
  heartbeat: { cancel(): void } | null;
}

/** Builds a scheduler; call start() to claim the data file and begin ticking. */
export function createDigestScheduler(options: DigestSchedulerOptions): DigestScheduler {
  const loop = createLoop(options);
  const { ctx } = loop;
  return {
    start: () => start(loop),
    tick: () => tick(loop),
    async runNow(scheduleId, actor) {
      const schedule = findSchedule({ schedules: await ctx.store.digests.schedules() }, scheduleId);
      assertCanManage(schedule, actor, 'send', loop.policy);
      const recorded = deliveryIndex({ deliveries: await ctx.store.digests.deliveries() });
      const plan = planRunNow(schedule, recorded, ctx.clock().getTime());
      if ('refusal' in plan) throw new DigestError(plan.refusal);
      return track(loop, sendOne(loop, plan.job, true));
    },
    async retry(key, actor) {
      const record = await ctx.store.digests.delivery(key.trim());
      if (!record)
        throw new DigestError(`there is no delivery ${key}; \`/audience digest list\` shows failed ones`);
      const schedule = findSchedule({ schedules: await ctx.store.digests.schedules() }, record.schedule_id);
      assertCanManage(schedule, actor, 'retry', loop.policy);
      const refusal = retryRefusal(record, loop.inflight);
      if (refusal) throw new DigestError(refusal);
      // A retry sends a recorded occurrence again under its key, claimed anew: one send across replicas.
      return track(loop, sendOne(loop, { schedule, key: record.key, dueAt: null, lateByMs: 0 }, true, true));
    },
    async stop() {
      loop.stopped = true;
      loop.timer?.cancel();
      loop.timer = null;
      loop.heartbeat?.cancel();
      loop.heartbeat = null;
      await Promise.allSettled([...loop.outstanding]);
    },
    content: ctx.content,
    graceMs: options.config.digestGraceHours * HOUR,
  };
}

function createLoop(options: DigestSchedulerOptions): Loop {
  const { store, config } = options;
  const timers = options.timers ?? systemTimers;
  const channelIntervalMs = options.channelIntervalMs ?? 1100;
  const ctx: BatchContext = {
    store,
    clock: options.clock,
    transport: options.transport,
    logger: options.logger,
    timers,
    pacer: createPacer(timers, channelIntervalMs),
    policy: options.policy ?? DEFAULT_POLICY,
    settings: { currency: config.currency, minCohortSize: config.minCohortSize },
    content: createContentCache(store, config),
    outcomes: createOutcomeQueue(),
    charts: new WeakMap(),
    ...(options.renderChart ? { renderChart: options.renderChart } : {}),
    concurrency: Math.max(1, options.concurrency ?? 20),
    channelIntervalMs,
    saves: { lastMs: 0 },
    leaseMs: options.leaseMs ?? 60_000,
  };
  return {
    ctx,
    options,
    policy: { adminUserIds: config.adminUserIds ?? [] },
    inflight: new Set(),
    lastScan: null,
    running: null,
    timer: null,
    stopped: false,
    outstanding: new Set(),
    elsewhere: false,
    heartbeat: null,
  };
}

function track<T>(loop: Loop, promise: Promise<T>): Promise<T> {
  loop.outstanding.add(promise);
  void promise.finally(() => loop.outstanding.delete(promise)).catch(() => undefined);
  return promise;
}

async function start(loop: Loop): Promise<void> {
  const { ctx } = loop;
  if (ctx.store.occurrences.shared) {
    // Replicas: a `started` record may be another live replica's post; claims say who died (see runTick).
    startHeartbeat(loop);
    await tick(loop).catch((error: unknown) => ctx.logger.error('digest tick failed', { error }));
    return;
  }
  const { found, mark } = planInterrupted(await ctx.store.digests.deliveries(), loop.inflight);
  const began = ctx.timers.monotonic();
  // This save takes the data file's lock (see the module comment), even when nothing else changed.
  await ctx.store
    .change(async (tx) => {
      for (const record of mark) await tx.putDelivery(record);
    })
    .catch(explainLocked);
  ctx.saves.lastMs = ctx.timers.monotonic() - began;
  for (const record of found) {
    ctx.logger.warn(
      'a digest was being sent when the app stopped; not resending it (it may have been posted)',
      {
        key: record.key,
        schedule: record.schedule_id,
        fix: 'check the channel; press Retry on the App Home to send it again',
      },
    );
  }
  await tick(loop).catch((error: unknown) => ctx.logger.error('digest tick failed', { error }));
}

/** A locked data file means another app runs on it: say so in words, and what to do. */
function explainLocked(error: unknown): never {
  if (!(error instanceof StoreError && error.code === 'locked')) throw error;
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

/**
 * Renews the claims of the occurrences this replica is sending every third of the lease, so only a dead replica's
 * claims (or ones a batch gave up on) run out.
 */
function startHeartbeat(loop: Loop): void {
  const { ctx } = loop;
  const beat = () => {
    if (loop.stopped) return;
    loop.heartbeat = ctx.timers.setTimeout(() => {
      ctx.store.occurrences
        .renew(ctx.leaseMs, [...loop.inflight])
        .catch((error: unknown) => ctx.logger.error('could not renew digest claims', { error }))
        .finally(beat);
    }, ctx.leaseMs / 3);
  };
  beat();
}

function tick(loop: Loop): Promise<TickSummary> {
  if (loop.running) return loop.running;
  const run = track(loop, runTick(loop)).finally(() => {
    loop.running = null;
    scheduleNext(loop).catch((error: unknown) =>
      loop.ctx.logger.error('digest tick not scheduled', { error }),
    );
  });
  loop.running = run;
  return run;
}

async function runTick(loop: Loop): Promise<TickSummary> {
  const { ctx } = loop;
  const now = ctx.clock().getTime();
  const recorded = await recordedDeliveries(loop);
  const plan = planTick({
    schedules: await ctx.store.digests.schedules(),
    recorded,
    inflight: loop.inflight,
    from: scanFrom(loop.lastScan, now),
    now,
    graceHours: loop.options.config.digestGraceHours,
  });
  loop.lastScan = now;
  loop.elsewhere =
    ctx.store.occurrences.shared &&
    [...recorded.values()].some((r) => r.status === 'started' && !loop.inflight.has(r.key));
  const summary: TickSummary = { at: now, delivered: [], failed: [], skipped: plan.skip.map((r) => r.key) };
  await recordSkipped(loop, plan);
  if (plan.deliver.length > 0) {
    // Delivering saves everything pending, the skipped records included.
    for (const r of await deliver(loop, plan.deliver, now))
      (r.status === 'delivered' ? summary.delivered : summary.failed).push(r.key);
  } else if (plan.skip.length > 0) {
    await ctx.store
      .flush()
      .catch((error: unknown) => ctx.logger.error('could not save digest deliveries', { error }));
  }
  await prepareContent(loop, now);
  return summary;
}

async function recordSkipped(loop: Loop, plan: TickPlan): Promise<void> {
  const { ctx } = loop;
  for (const m of plan.missed) {
    ctx.logger.warn('skipped a digest missed while the app was not running', {
      key: m.key,
      channel: m.channel,
      due: new Date(m.dueAt).toISOString(),
      graceHours: loop.options.config.digestGraceHours,
    });
  }
  if (plan.skip.length === 0) return;
  // Saved with the deliveries of this tick, or by the flush after it.
  await ctx.store.change(
    async (tx) => {
      for (const record of plan.skip) await tx.putDelivery(record);
    },
    { wait: 'applied' },
  );
}

/**
 * The delivery records by key, as the planner reads them; on a shared database without those of occurrences
 * whose holder died (its claim ran out), so they are due again.
 */
async function recordedDeliveries(loop: Loop): Promise<Map<string, DeliveryRecord>> {
  const { store } = loop.ctx;
  const recorded = deliveryIndex({ deliveries: await store.digests.deliveries() });
  if (!store.occurrences.shared) return recorded;
  for (const key of await store.occurrences.abandoned()) recorded.delete(key);
  return recorded;
}

/** Delivers jobs, keeping their keys in flight meanwhile so no tick or retry sends them beside this. */
async function deliver(
  loop: Loop,
  jobs: DeliveryJob[],
  now: number,
  options: { claim: boolean; again?: boolean } = { claim: true },
): Promise<DeliveryResult[]> {
  for (const job of jobs) loop.inflight.add(job.key);
  try {
    const outcome = await deliverBatch(loop.ctx, jobs, now, options);
    if (outcome.heldElsewhere > 0) loop.elsewhere = true;
    return outcome.results;
  } finally {
    for (const job of jobs) loop.inflight.delete(job.key);
  }
}

async function sendOne(loop: Loop, job: DeliveryJob, claim: boolean, again = false): Promise<DeliveryResult> {
  if (loop.inflight.has(job.key)) throw new DigestError(`${job.key} is being sent right now`);
  const [result] = await deliver(loop, [job], loop.ctx.clock().getTime(), { claim, again });
  if (!result)
    throw new DigestError(`${job.key} is being sent, or was just sent, by another replica of the app`);
  return result;
}

/**
 * Computes the content of digests due in the next few minutes ahead of time (it takes seconds on a large
 * audience), so they go out on the minute. On changed data it is computed again when due.
 */
async function prepareContent(loop: Loop, now: number): Promise<void> {
  const { ctx } = loop;
  const wanted = new Map(
    dueSoon(await ctx.store.digests.schedules(), now).map((s) => {
      const opts = digestOptions(s.options);
      return [contentConfigKey(opts), opts] as const;
    }),
  );
  for (const [key, opts] of wanted) {
    try {
      await ctx.content.get(opts, now);
    } catch (error) {
      ctx.logger.error('could not compute digest content ahead of time', { config: key, error });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Next tick: in `tickMs`, or just after the next occurrence falls due if that is sooner. */
async function scheduleNext(loop: Loop): Promise<void> {
  loop.timer?.cancel();
  loop.timer = null;
  if (loop.stopped) return;
  const { ctx } = loop;
  const schedules = await ctx.store.digests.schedules();
  // Stopped, or another tick scheduled, while the schedules were read.
  if (loop.stopped || loop.timer !== null) return;
  const tickMs = loop.options.tickMs ?? 30_000;
  // Another replica holds occurrences: if it dies, its leases run out and this replica takes over.
  const delay = nextTickDelay(
    schedules,
    ctx.clock().getTime(),
    loop.elsewhere ? Math.min(tickMs, ctx.leaseMs + 100) : tickMs,
  );
  loop.timer = ctx.timers.setTimeout(() => {
    tick(loop).catch((error: unknown) => ctx.logger.error('digest tick failed', { error }));
  }, delay);
}
