/**
 * Delivering a batch of jobs exactly once: the content of each configuration is computed once, jobs go out in
 * rounds of at most one per channel (planner.ts), and each round's `started` records are committed (durable on
 * disk) before any of its posts, so a crash leaves at most the rounds of two saves in doubt and no occurrence is
 * ever sent twice. Outcomes are saved with the next commit (send.ts).
 *
 * Before any of that, each occurrence is claimed through the store (`Store.occurrences`): on a database shared
 * by several app replicas only the replica that wins a claim delivers it, and it checks again right before
 * posting that the claim is still its own. The file backend grants every claim (its lock already makes this
 * process the only scheduler on the file).
 */
import type { OccurrenceClaim } from '../store/store.ts';
import { contentConfigKey, recordDigestSegmentation } from './content.ts';
import { type DeliveryJob, INTERRUPTED, planRounds, roundsPerSave, SENDING } from './planner.ts';
import { KEEP_DELIVERIES_MS, MAX_DELIVERIES } from './schedules.ts';
import { type ContentByConfig, type DeliveryResult, type SendContext, sendJob } from './send.ts';
import { digestOptions } from './validate.ts';

/** What a batch needs beyond sending: pacing figures and the time of the last save, which sizes the next. */
export interface BatchContext extends SendContext {
  concurrency: number;
  channelIntervalMs: number;
  saves: { lastMs: number };
  /** How long a claim on an occurrence lasts without renewal. */
  leaseMs: number;
}

/** What a batch did: one result per job it delivered, and how many jobs another process holds. */
export interface BatchOutcome {
  results: DeliveryResult[];
  heldElsewhere: number;
}

/**
 * Delivers `jobs` (all due at `now`): claims each first (`again`: a retry by hand, which claims a recorded
 * occurrence anew) and returns one result per job this process delivered.
 */
export async function deliverBatch(
  ctx: BatchContext,
  allJobs: DeliveryJob[],
  now: number,
  options: { claim: boolean; again?: boolean } = { claim: true },
): Promise<BatchOutcome> {
  const claims = options.claim ? await claimJobs(ctx, allJobs, options.again === true) : null;
  const jobs = claims ? allJobs.filter((job) => claims.has(job.key)) : allJobs;
  const heldElsewhere = allJobs.length - jobs.length;
  if (jobs.length === 0) return { results: [], heldElsewhere };
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
      const rest = rounds.slice(r).flat();
      if (claims && ctx.store.occurrences.shared) await releaseUnsaved(ctx, rest, claims, error);
      else results.push(...(await refuseUnsaved(ctx, rest, error)));
      break;
    }
    const to = Math.min(rounds.length, durableUntil + perSave());
    saved = durableUntil < to ? markStarted(ctx, rounds.slice(durableUntil, to).flat(), now) : null;
    // A failed save of later rounds must surface when they are due, not as an unhandled rejection.
    saved?.catch(() => undefined);
    for (; r < durableUntil; r++) {
      const sent = await mapLimit(rounds[r] ?? [], ctx.concurrency, (job) =>
        sendClaimed(ctx, job, contents, claims?.get(job.key)),
      );
      for (const result of sent) if (result) results.push(result);
    }
    durableUntil = to;
  }
  await recordSegmentations(ctx, jobs, results, contents);
  await ctx.outcomes
    .save(ctx.store, (tx) => tx.pruneDeliveries(now - KEEP_DELIVERIES_MS, MAX_DELIVERIES))
    .catch((error: unknown) => ctx.logger.error('could not save digest deliveries', { error }));
  return { results, heldElsewhere };
}

/** Claims every job's occurrence; the map holds those this process won. */
async function claimJobs(
  ctx: BatchContext,
  jobs: DeliveryJob[],
  again: boolean,
): Promise<Map<string, OccurrenceClaim>> {
  const won = new Map<string, OccurrenceClaim>();
  await mapLimit(jobs, 4, async (job) => {
    const claim = await ctx.store.occurrences.claim(job.key, job.schedule.id, ctx.leaseMs, { again });
    if (!claim) return;
    // A retry decided on a record read before the claim: another replica may have delivered it since (its
    // record committed with the end of its claim, so a read now sees it). Then there is nothing to retry.
    if (again && (await ctx.store.digests.delivery(job.key))?.status === 'delivered') {
      await ctx.store.occurrences.release(claim);
      return;
    }
    won.set(job.key, claim);
  });
  return won;
}

/**
 * Sends one claimed job: first makes sure the claim is still this process's (a replica that stalled past its
 * lease must not post what another took over), and when an earlier holder may have posted before it stopped,
 * looks in the channel first. Null: the job is another process's now.
 */
async function sendClaimed(
  ctx: BatchContext,
  job: DeliveryJob,
  contents: ContentByConfig,
  claim: OccurrenceClaim | undefined,
): Promise<DeliveryResult | null> {
  if (!claim) return sendJob(ctx, job, contents);
  if (claim.mayHavePosted) {
    const found = await findEarlierPost(ctx, job);
    if (found !== false) return found;
  }
  if (!(await ctx.store.occurrences.startPosting(claim, ctx.leaseMs))) {
    ctx.logger.warn('digest taken over by another replica; not posting it here', { key: job.key });
    return null;
  }
  return sendJob(ctx, job, contents);
}

/**
 * A takeover of an occurrence whose holder stopped while posting: if the post is in the channel it is recorded
 * as delivered; if the transport cannot look, it is recorded as interrupted (never posted twice, retried by
 * hand); false: it is not there, post it.
 */
async function findEarlierPost(ctx: BatchContext, job: DeliveryJob): Promise<DeliveryResult | false> {
  const { schedule } = job;
  const found = ctx.transport.findPost
    ? await ctx.transport.findPost(schedule.channel_id, job.key).catch(() => null)
    : null;
  if (found === false) return false;
  const at = ctx.clock().getTime();
  const detail =
    found === null
      ? `${INTERRUPTED}: the replica sending it stopped; not resent because it may have been posted`
      : `${found.channel}${found.ts ? ` ${found.ts}` : ''} (found in the channel: posted by a replica that stopped)`;
  const status = found === null ? 'failed' : 'delivered';
  ctx.outcomes.push((tx) => tx.putDelivery({ key: job.key, schedule_id: schedule.id, status, at, detail }));
  ctx.logger.warn('a digest was being sent by a replica that stopped', {
    key: job.key,
    found: found !== null,
  });
  return {
    key: job.key,
    scheduleId: schedule.id,
    channel: found?.channel ?? schedule.channel_id,
    status,
    code: found === null ? 'interrupted' : null,
    paused: schedule.paused,
  };
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
  await ctx.outcomes.save(ctx.store, async (tx) => {
    for (const job of jobs) {
      await tx.putDelivery({
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

/**
 * On a shared database a failed save (a deadlock, a lost connection) rolled back: nothing of `rest` was posted
 * or recorded. Giving their claims back makes them due again, so the next tick retries them (the planner rescans
 * the last hour) instead of recording them as failed for someone to retry by hand.
 */
async function releaseUnsaved(
  ctx: SendContext,
  rest: DeliveryJob[],
  claims: Map<string, OccurrenceClaim>,
  error: unknown,
): Promise<void> {
  ctx.logger.error('could not save digest deliveries; not sending them now, trying again at the next tick', {
    error,
    count: rest.length,
  });
  for (const job of rest) {
    const claim = claims.get(job.key);
    // One that cannot be given back now (the database is away) is no longer renewed: it lapses with its lease
    // and is taken over at a tick after that, by this replica or another.
    if (claim) await ctx.store.occurrences.release(claim).catch(() => undefined);
  }
}

/** Without a durable `started` record a post could be repeated after a crash: the rest is not sent. */
async function refuseUnsaved(
  ctx: SendContext,
  rest: DeliveryJob[],
  error: unknown,
): Promise<DeliveryResult[]> {
  ctx.logger.error('could not save digest deliveries; not sending them', { error, count: rest.length });
  const at = ctx.clock().getTime();
  const detail = 'not sent: the data file could not be saved (see the log); press Retry once it can';
  // Applied in memory (the save just failed): saved with the next save that works.
  await ctx.store
    .change(
      async (tx) => {
        for (const job of rest)
          await tx.putDelivery({ key: job.key, schedule_id: job.schedule.id, status: 'failed', at, detail });
      },
      { wait: 'applied' },
    )
    .catch(() => undefined);
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
