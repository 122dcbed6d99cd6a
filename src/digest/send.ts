/**
 * Sending one digest and turning the outcome into its delivery record: the post itself (policy in deliver.ts),
 * the record and schedule changes it leads to, the owner's notice when a schedule is paused, and the chart in
 * the digest's thread. Records are not written here but queued (see OutcomeQueue), so a batch saves once.
 */
import { buildDigestMessage } from '../blocks/digest-message.ts';
import { buildDeliveryProblemNotice, describeDeliveryProblem } from '../blocks/digest-notice.ts';
import { segmentSizesOverTime } from '../charts/specs.ts';
import type { RenderedChart } from '../charts/types.ts';
import type { Timers } from '../domain/timers.ts';
import type { Clock, DigestSchedule } from '../domain/types.ts';
import { formatInZone } from '../domain/zoned-time.ts';
import type { Logger } from '../logger.ts';
import type { Store, StoreChange } from '../store/store.ts';
import { type ContentCache, contentConfigKey, type DigestContent } from './content.ts';
import {
  type DeliveryPolicy,
  type DigestTransport,
  type Pacer,
  type PostOutcome,
  postDigest,
} from './deliver.ts';
import type { DeliveryJob } from './planner.ts';
import { digestOptions } from './validate.ts';

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

/**
 * Outcomes of posts, applied to the store with the next save of a delivery batch rather than each on its own:
 * on a large store every save writes the whole file, and a batch of 1,000 would otherwise mean 1,000 saves.
 * Until then the occurrence reads `started`, which never leads to a resend.
 */
export interface OutcomeQueue {
  push(apply: (tx: StoreChange) => Promise<unknown>): void;
  /**
   * Applies everything queued together with `more` in one store change, and forgets it only once that change
   * has committed: a save that fails (a deadlock, a full disk) leaves the outcomes for the next save.
   */
  save(store: Store, more: (tx: StoreChange) => Promise<void>): Promise<void>;
}

/** A queue of pending store changes. */
export function createOutcomeQueue(): OutcomeQueue {
  const pending: Array<(tx: StoreChange) => Promise<unknown>> = [];
  return {
    push: (apply) => void pending.push(apply),
    async save(store, more) {
      const taken = pending.slice();
      await store.change(async (tx) => {
        for (const apply of taken) await apply(tx);
        await more(tx);
      });
      // Outcomes pushed while the change ran stay queued for the next save.
      pending.splice(0, taken.length);
    },
  };
}

/** Everything sending needs, shared by the scheduler's parts. */
export interface SendContext {
  store: Store;
  clock: Clock;
  transport: DigestTransport;
  logger: Logger;
  timers: Timers;
  pacer: Pacer;
  policy: DeliveryPolicy;
  settings: { currency: string; minCohortSize: number };
  content: ContentCache;
  outcomes: OutcomeQueue;
  charts: WeakMap<DigestContent, Promise<RenderedChart | null>>;
  renderChart?: (spec: ReturnType<typeof segmentSizesOverTime>) => Promise<RenderedChart>;
}

/** Content per configuration key, or the error computing it raised. */
export type ContentByConfig = Map<string, DigestContent | Error>;

/** Posts one job's digest (its content computed beforehand) and queues its outcome; never throws. */
export async function sendJob(
  ctx: SendContext,
  job: DeliveryJob,
  contents: ContentByConfig,
): Promise<DeliveryResult> {
  const { schedule } = job;
  const opts = digestOptions(schedule.options);
  const built = contents.get(contentConfigKey(opts));
  if (!built || built instanceof Error) {
    return finish(ctx, job, { ok: false, code: 'content_error', pause: false, attempts: 0 });
  }
  const message = buildDigestMessage(built, {
    scheduleId: schedule.id,
    cadence: schedule.cadence,
    timeZone: schedule.time_zone,
    dueAt: job.dueAt,
    lateByMs: job.lateByMs,
    ...ctx.settings,
  });
  const context = logContext(job);
  const outcome = await postDigest(
    ctx,
    { channel: schedule.channel_id, text: message.text, blocks: message.blocks, key: job.key },
    context,
  );
  const result = await finish(ctx, job, outcome);
  if (outcome.ok && outcome.ts && opts.chart)
    await attachChart(ctx, built, outcome.channel, outcome.ts, context);
  return result;
}

/** Queues the record of an outcome and, when the schedule is paused by it, tells its owner. */
export async function finish(
  ctx: SendContext,
  job: DeliveryJob,
  outcome: PostOutcome,
): Promise<DeliveryResult> {
  const pausedNow = async () => (await ctx.store.digests.schedule(job.schedule.id))?.paused ?? false;
  if (outcome.ok) {
    recordDelivered(ctx, job, outcome);
    return { ...resultOf(job, 'delivered', null), channel: outcome.channel, paused: await pausedNow() };
  }
  await recordFailed(ctx, job, outcome);
  return { ...resultOf(job, 'failed', outcome.code), paused: outcome.pause || (await pausedNow()) };
}

function resultOf(job: DeliveryJob, status: DeliveryResult['status'], code: string | null): DeliveryResult {
  const { schedule } = job;
  return { key: job.key, scheduleId: schedule.id, channel: schedule.channel_id, status, code, paused: false };
}

function recordDelivered(
  ctx: SendContext,
  job: DeliveryJob,
  outcome: Extract<PostOutcome, { ok: true }>,
): void {
  const at = ctx.clock().getTime();
  const { schedule } = job;
  ctx.outcomes.push(async (tx) => {
    const detail = `${outcome.channel}${outcome.ts ? ` ${outcome.ts}` : ''}${outcome.joined ? ' (joined the channel)' : ''}`;
    await tx.putDelivery({ key: job.key, schedule_id: schedule.id, status: 'delivered', at, detail });
    const s = await tx.digests.schedule(schedule.id);
    if (!s) return;
    // A channel typed as #name is known by its id from now on; a past transient error is over.
    const named = s.channel_id.startsWith('#') && /^[CGD][A-Z0-9]+$/.test(outcome.channel);
    await tx.updateSchedule(s.id, { last_error: null, ...(named ? { channel_id: outcome.channel } : {}) });
  });
  ctx.logger.info('digest delivered', { key: job.key, channel: outcome.channel, attempts: outcome.attempts });
}

async function recordFailed(
  ctx: SendContext,
  job: DeliveryJob,
  outcome: Extract<PostOutcome, { ok: false }>,
): Promise<void> {
  const at = ctx.clock().getTime();
  const { schedule } = job;
  const problem = describeDeliveryProblem(outcome.code, schedule.channel_id, schedule.id);
  ctx.outcomes.push(async (tx) => {
    await tx.putDelivery({
      key: job.key,
      schedule_id: schedule.id,
      status: 'failed',
      at,
      detail: problem.reason,
    });
    await tx.updateSchedule(schedule.id, {
      last_error: problem.reason,
      ...(outcome.pause ? { paused: true } : {}),
    });
  });
  ctx.logger.error('digest not delivered', {
    key: job.key,
    channel: schedule.channel_id,
    code: outcome.code,
    paused: outcome.pause,
  });
  if (outcome.pause) await tellOwner(ctx, job, schedule, problem);
}

async function tellOwner(
  ctx: SendContext,
  job: DeliveryJob,
  schedule: DigestSchedule,
  problem: ReturnType<typeof describeDeliveryProblem>,
): Promise<void> {
  const notice = buildDeliveryProblemNotice({
    scheduleId: schedule.id,
    channel: schedule.channel_id,
    problem,
    due: job.dueAt === null ? null : formatInZone(job.dueAt, schedule.time_zone),
  });
  try {
    await ctx.transport.notifyUser(schedule.owner_id, notice);
  } catch (error) {
    ctx.logger.error('could not tell the owner about a paused digest', {
      key: job.key,
      owner: schedule.owner_id,
      error,
    });
  }
}

/** Posts the segment-sizes chart in the digest's thread; a failure is logged and changes nothing else. */
async function attachChart(
  ctx: SendContext,
  built: DigestContent,
  channel: string,
  ts: string,
  context: Record<string, unknown>,
): Promise<void> {
  const render = ctx.renderChart;
  if (!render || !ctx.transport.uploadChart || built.sizesOverTime.length === 0) return;
  let chart = ctx.charts.get(built);
  if (!chart) {
    // Rendered once per content: every schedule sharing it gets the same picture.
    chart = render(segmentSizesOverTime(built.sizesOverTime)).catch((error: unknown) => {
      ctx.logger.warn('could not render the digest chart', { ...context, error });
      return null;
    });
    ctx.charts.set(built, chart);
  }
  const rendered = await chart;
  if (!rendered) return;
  const result = await ctx.transport.uploadChart(channel, ts, rendered);
  if (!result.ok)
    ctx.logger.warn('digest chart not attached; the digest text was delivered', {
      ...context,
      error: result.error,
    });
}

function logContext(job: DeliveryJob): Record<string, unknown> {
  return { key: job.key, schedule: job.schedule.id, channel: job.schedule.channel_id };
}
