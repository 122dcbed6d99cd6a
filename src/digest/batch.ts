/**
 * Delivering a batch of jobs exactly once: the content of each configuration is computed once, jobs go out in
 * rounds of at most one per channel (planner.ts), and each round's `started` records are committed (durable on
 * disk) before any of its posts, so a crash leaves at most the rounds of two saves in doubt and no occurrence is
 * ever sent twice. Outcomes are saved with the next commit (send.ts).
 */
import { contentConfigKey, recordDigestSegmentation } from './content.ts';
import { type DeliveryJob, planRounds, roundsPerSave, SENDING } from './planner.ts';
import { pruneDeliveries, putDelivery } from './schedules.ts';
import { type ContentByConfig, type DeliveryResult, type SendContext, sendJob } from './send.ts';
import { digestOptions } from './validate.ts';

/** What a batch needs beyond sending: pacing figures and the time of the last save, which sizes the next. */
export interface BatchContext extends SendContext {
  concurrency: number;
  channelIntervalMs: number;
  saves: { lastMs: number };
}

/** Delivers `jobs` (all due at `now`) and returns one result per job. */
export async function deliverBatch(
  ctx: BatchContext,
  jobs: DeliveryJob[],
  now: number,
): Promise<DeliveryResult[]> {
  const contents = await computeContents(ctx, jobs, now);
  const rounds = planRounds(jobs);
  const results: DeliveryResult[] = [];
  const perSave = () => roundsPerSave(ctx.saves.lastMs, ctx.channelIntervalMs);
  // Each save marks as many rounds as can be posted while the next save runs, and runs while the rounds
  // before it post: on a large store, where a save takes seconds, saving and pacing overlap.
  let durableUntil = Math.min(rounds.length, perSave());
  let saved: Promise<void> | null = markStarted(ctx, rounds.slice(0, durableUntil).flat(), now);
  for (let r = 0; r < rounds.length; ) {
    try {
      await saved;
    } catch (error) {
      results.push(...refuseUnsaved(ctx, rounds.slice(r).flat(), error));
      break;
    }
    const to = Math.min(rounds.length, durableUntil + perSave());
    saved = durableUntil < to ? markStarted(ctx, rounds.slice(durableUntil, to).flat(), now) : null;
    // A failed save of later rounds must surface when they are due, not as an unhandled rejection.
    saved?.catch(() => undefined);
    for (; r < durableUntil; r++) {
      results.push(
        ...(await mapLimit(rounds[r] ?? [], ctx.concurrency, (job) => sendJob(ctx, job, contents))),
      );
    }
    durableUntil = to;
  }
  await recordSegmentations(ctx, jobs, results, contents);
  await ctx.store
    .commit((d) => {
      ctx.outcomes.apply(d);
      pruneDeliveries(d, now);
    })
    .catch((error: unknown) => ctx.logger.error('could not save digest deliveries', { error }));
  return results;
}

/** The content of each configuration among `jobs`; a failure is kept as the error (those jobs fail). */
async function computeContents(ctx: SendContext, jobs: DeliveryJob[], now: number): Promise<ContentByConfig> {
  const contents: ContentByConfig = new Map();
  for (const job of jobs) {
    const opts = digestOptions(job.schedule.options);
    const key = contentConfigKey(opts);
    if (contents.has(key)) continue;
    try {
      contents.set(key, await ctx.content.get(opts, now));
    } catch (error) {
      ctx.logger.error('could not compute digest content', { config: key, error });
      contents.set(key, error instanceof Error ? error : new Error(String(error)));
    }
    // Content is synchronous work: let Slack requests in between configurations.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return contents;
}

/** Stores the segmentation each delivered configuration showed, for next week's comparison (content.ts). */
async function recordSegmentations(
  ctx: SendContext,
  jobs: DeliveryJob[],
  results: DeliveryResult[],
  contents: ContentByConfig,
): Promise<void> {
  const delivered = new Set(results.filter((r) => r.status === 'delivered').map((r) => r.key));
  for (const job of jobs) {
    if (!delivered.has(job.key)) continue;
    const content = contents.get(contentConfigKey(digestOptions(job.schedule.options)));
    if (!content || content instanceof Error) continue;
    await recordDigestSegmentation(ctx.store, content, ctx.settings.currency).catch((error: unknown) =>
      ctx.logger.error('could not record the segmentation a digest showed', { key: job.key, error }),
    );
  }
}

/** Commits `started` records for `jobs` (and the outcomes queued so far) before any of them is posted. */
async function markStarted(ctx: BatchContext, jobs: DeliveryJob[], now: number): Promise<void> {
  const began = ctx.timers.monotonic();
  await ctx.store.commit((d) => {
    ctx.outcomes.apply(d);
    for (const job of jobs) {
      putDelivery(d, {
        key: job.key,
        schedule_id: job.schedule.id,
        status: 'started',
        at: now,
        detail: SENDING,
      });
    }
  });
  ctx.saves.lastMs = ctx.timers.monotonic() - began;
}

/** Without a durable `started` record a post could be repeated after a crash: the rest is not sent. */
function refuseUnsaved(ctx: SendContext, rest: DeliveryJob[], error: unknown): DeliveryResult[] {
  ctx.logger.error('could not save digest deliveries; not sending them', { error, count: rest.length });
  const at = ctx.clock().getTime();
  const detail = 'not sent: the data file could not be saved (see the log); press Retry once it can';
  ctx.store.update((d) => {
    for (const job of rest)
      putDelivery(d, { key: job.key, schedule_id: job.schedule.id, status: 'failed', at, detail });
  });
  return rest.map((job) => ({
    key: job.key,
    scheduleId: job.schedule.id,
    channel: job.schedule.channel_id,
    status: 'failed',
    code: 'store_error',
    paused: job.schedule.paused,
  }));
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
