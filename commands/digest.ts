import {
  buildDigestList,
  buildDigestNotice,
  buildScheduleCreated,
  describeCadence,
} from '../src/blocks/digest-list.ts';
import { buildDigestMessage } from '../src/blocks/digest-message.ts';
import { channelLabel } from '../src/blocks/digest-notice.ts';
import { computeDigestContent } from '../src/digest/content.ts';
import { nextOccurrences } from '../src/digest/occurrences.ts';
import { type Actor, type DigestPolicy, digestPolicy } from '../src/digest/permissions.ts';
import {
  assertCanManage,
  createSchedule,
  deleteSchedule,
  findSchedule,
  scheduleStatuses,
  setPaused,
} from '../src/digest/schedules.ts';
import { DigestError, digestOptions, parseAddCommand } from '../src/digest/validate.ts';
import { UsageError } from '../src/domain/errors.ts';
import type { Invocation, Reply, Subcommand } from '../src/domain/reply.ts';
import type { DigestSchedule } from '../src/domain/types.ts';
import { formatInZone } from '../src/domain/zoned-time.ts';
import { K_RANGE_TEXT } from '../src/engine/segment-defaults.ts';
import { type Store, StoreError } from '../src/store/store.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

const HOUR = 3_600_000;

/** What every digest action works with. */
interface ActionContext {
  deps: CommandDeps;
  actor: Actor;
  now: number;
  graceMs: number;
  policy: DigestPolicy;
  /** The action word as typed (undefined for a bare `/audience digest`). */
  word: string | undefined;
  rest: string[];
  options: Record<string, string>;
  surface: Invocation['surface'];
}

type Action = (c: ActionContext) => Promise<Reply> | Reply;

/**
 * `/audience digest`: scheduled segment digests for channels. Without words in Slack it opens a form (the
 * slash-command listener does that); here it lists the digests. Text forms: add, list, preview, run,
 * pause, resume, delete, retry.
 */
export function createDigestCommand(deps: CommandDeps): Subcommand {
  const graceMs = deps.config.digestGraceHours * HOUR;
  // Owners, ADMIN_USER_IDS and the local operator may change a digest (src/digest/permissions.ts).
  const policy = digestPolicy(deps.config);
  return {
    name: 'digest',
    summary:
      'Weekly (or daily, monthly) segment digests posted to a channel at a local time in any time zone.',
    usage: `/audience digest [add <#channel> <weekly|daily|monthly> [mon,…] <HH:MM> <Time/Zone> [predictions=no] [recommendations=no] [k=auto|${K_RANGE_TEXT}] | list | preview|run|pause|resume|delete <id> | retry <key>]`,
    examples: [
      '/audience digest',
      '/audience digest add #growth weekly mon 09:00 Europe/Berlin',
      '/audience digest list',
      '/audience digest pause sch_1',
    ],
    async run(args, invocation) {
      const [word, ...rest] = args.positional;
      const action = (word ?? 'list').toLowerCase();
      // Own keys only: `digest constructor` must not find Object's.
      const handler = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!handler) throw new UsageError(`"${word}" is not a digest action; use ${ACTION_NAMES.join(', ')}`);
      if (action !== 'add') checkOptions(args, `digest ${action}`, { options: [], positional: Infinity });
      const actor: Actor = { userId: invocation.userId, surface: invocation.surface };
      const now = deps.clock().getTime();
      const context = {
        deps,
        actor,
        now,
        graceMs,
        policy,
        word,
        rest,
        options: args.options,
        surface: invocation.surface,
      };
      try {
        return await handler(context);
      } catch (error) {
        throw asUsageError(error);
      }
    },
  };
}

/** Digest refusals and a data file held by the running app are user problems: shown with the usage. */
function asUsageError(error: unknown): unknown {
  if (error instanceof DigestError) return new UsageError(error.message);
  // The CLI while the app runs: only the app may write the data file.
  if (error instanceof StoreError && error.code === 'locked') {
    return new UsageError(
      `nothing was changed: the running app holds the data file; manage digests there (/audience digest in Slack or the app's console). ${error.message}`,
    );
  }
  return error;
}

async function list({ deps, word, rest, surface, now }: ActionContext): Promise<Reply> {
  if (rest.length > 0) throw new UsageError(`digest list takes nothing after it; remove ${rest.join(' ')}`);
  const schedules = await deps.store.digests.schedules();
  const deliveries = await deps.store.digests.deliveries();
  return buildDigestList([...schedules], scheduleStatuses({ schedules, deliveries }, now), {
    ...(word === undefined && surface !== 'slack'
      ? { intro: 'Create a digest with `/audience digest add #growth weekly mon 09:00 Europe/Berlin`.' }
      : {}),
  });
}

async function add({ deps, rest, options, actor, now }: ActionContext): Promise<Reply> {
  const input = parseAddCommand(rest, options);
  const schedule = await createSchedule(deps.store, input, actor.userId, now);
  return buildScheduleCreated(
    schedule,
    nextOccurrences(schedule, now, 3).map((o) => o.at),
  );
}

/** Shows what the digest would say now, privately; computing it writes nothing. */
async function preview({ deps, rest, now }: ActionContext): Promise<Reply> {
  const { store, config, digests } = deps;
  const schedule = findSchedule(await scheduleList(store), one(rest, 'preview'));
  const options = digestOptions(schedule.options);
  const content = digests
    ? await digests.content.get(options, now)
    : await computeDigestContent(store, options, {
        currency: config.currency,
        minCohortSize: config.minCohortSize,
        now,
      });
  const message = buildDigestMessage(content, {
    scheduleId: schedule.id,
    cadence: schedule.cadence,
    timeZone: schedule.time_zone,
    dueAt: null,
    lateByMs: 0,
    currency: config.currency,
    minCohortSize: config.minCohortSize,
    preview: true,
  });
  return { ...message, data: { perPerson: true, preview: message.data } } satisfies Reply;
}

async function runNow({ deps, rest, actor, policy }: ActionContext): Promise<Reply> {
  const schedule = findSchedule(await scheduleList(deps.store), one(rest, 'run'));
  assertCanManage(schedule, actor, 'send', policy);
  const result = await needsApp(deps, 'run').runNow(schedule.id, actor);
  return sentReply(result.status, result.key, result.channel, result.code, result.paused);
}

async function retry({ deps, rest, actor }: ActionContext): Promise<Reply> {
  const key = one(rest, 'retry');
  const result = await needsApp(deps, 'retry').retry(key, actor);
  return sentReply(result.status, result.key, result.channel, result.code, result.paused);
}

/** The stored schedules, for looking one up by id. */
async function scheduleList(store: Store): Promise<{ schedules: readonly DigestSchedule[] }> {
  return { schedules: await store.digests.schedules() };
}

function needsApp(deps: CommandDeps, action: string): NonNullable<CommandDeps['digests']> {
  if (!deps.digests) {
    throw new UsageError(
      `sending needs the running app: use /audience digest ${action} in Slack or the local console`,
    );
  }
  return deps.digests;
}

async function pauseOrResume(c: ActionContext, pause: boolean): Promise<Reply> {
  const action = pause ? 'pause' : 'resume';
  const schedule = findSchedule(await scheduleList(c.deps.store), one(c.rest, action));
  assertCanManage(schedule, c.actor, action, c.policy);
  if (schedule.paused === pause) {
    return buildDigestNotice(`Digest ${schedule.id} is already ${pause ? 'paused' : 'running'}.`, {
      scheduleId: schedule.id,
    });
  }
  await setPaused(c.deps.store, schedule, pause, c.actor, c.now, c.graceMs);
  const next = nextOccurrences(schedule, c.now, 1)[0];
  return buildDigestNotice(
    pause
      ? `:double_vertical_bar: Digest *${schedule.id}* (${channelLabel(schedule.channel_id)}, ${describeCadence(schedule)}) is paused. Resume it with \`/audience digest resume ${schedule.id}\`.`
      : `:arrow_forward: Digest *${schedule.id}* resumed.${next ? ` Next delivery ${formatInZone(next.at, schedule.time_zone)}.` : ''}`,
    { scheduleId: schedule.id, paused: pause },
  );
}

async function remove({ deps, rest, actor, policy, now }: ActionContext): Promise<Reply> {
  const schedule = findSchedule(await scheduleList(deps.store), one(rest, 'delete'));
  assertCanManage(schedule, actor, 'delete', policy);
  await deleteSchedule(deps.store, schedule, actor, now);
  return buildDigestNotice(
    `:wastebasket: Digest *${schedule.id}* (${channelLabel(schedule.channel_id)}) deleted.`,
    { scheduleId: schedule.id, deleted: true },
  );
}

const ACTIONS: Record<string, Action> = {
  add,
  list,
  preview,
  run: runNow,
  pause: (c) => pauseOrResume(c, true),
  resume: (c) => pauseOrResume(c, false),
  delete: remove,
  retry,
};
const ACTION_NAMES = ['add', 'list', 'preview', 'run', 'pause', 'resume', 'delete', 'retry'];

function one(rest: readonly string[], action: string): string {
  if (rest.length === 0)
    throw new UsageError(
      `say which digest to ${action}, e.g. digest ${action} sch_1; digest list shows the ids`,
    );
  if (rest.length > 1)
    throw new UsageError(`digest ${action} takes one id; remove ${rest.slice(1).join(' ')}`);
  return rest[0] as string;
}

function sentReply(
  status: 'delivered' | 'failed',
  key: string,
  channel: string,
  code: string | null,
  paused: boolean,
): Reply {
  if (status === 'delivered') {
    return buildDigestNotice(
      `:white_check_mark: Digest sent to ${channelLabel(channel)} (${key}).${paused ? ` The digest is still paused; resume it with \`/audience digest resume ${key.split(':')[0]}\`.` : ''}`,
      { key, status },
    );
  }
  return buildDigestNotice(
    `:warning: The digest could not be sent to ${channelLabel(channel)}: ${code ?? 'unknown error'}.${paused ? ' It is paused; the owner got a message saying how to fix it.' : ' Try again with the Retry button on the Home tab.'}`,
    { key, status, code, error: undefined },
  );
}
