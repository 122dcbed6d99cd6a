import {
  buildDigestList,
  buildDigestNotice,
  buildScheduleCreated,
  describeCadence,
} from '../src/blocks/digest-list.ts';
import { buildDigestMessage } from '../src/blocks/digest-message.ts';
import { channelLabel } from '../src/blocks/digest-notice.ts';
import { computeDigestContent } from '../src/digest/content.ts';
import { formatInZone, nextOccurrences } from '../src/digest/occurrences.ts';
import { type Actor, digestPolicy } from '../src/digest/permissions.ts';
import {
  assertCanManage,
  createSchedule,
  deleteSchedule,
  findSchedule,
  scheduleStatuses,
  setPaused,
} from '../src/digest/schedules.ts';
import { DigestError, digestOptions, parseAddCommand } from '../src/digest/validate.ts';
import { type Reply, type Subcommand, UsageError } from '../src/domain/reply.ts';
import { K_RANGE_TEXT } from '../src/engine/segment-defaults.ts';
import { StoreError } from '../src/store/store.ts';
import type { CommandDeps } from './deps.ts';

const ACTIONS = ['add', 'list', 'preview', 'run', 'pause', 'resume', 'delete', 'retry'];
const HOUR = 3_600_000;

/**
 * `/audience digest`: scheduled segment digests for channels. Without words in Slack it opens a form (the
 * slash-command listener does that); here it lists the digests. Text forms: add, list, preview, run,
 * pause, resume, delete, retry.
 */
export function createDigestCommand({ store, clock, config, digests }: CommandDeps): Subcommand {
  const graceMs = config.digestGraceHours * HOUR;
  // Owners, ADMIN_USER_IDS and the local operator may change a digest (src/digest/permissions.ts).
  const policy = digestPolicy(config);
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
      if (!ACTIONS.includes(action)) {
        throw new UsageError(`"${word}" is not a digest action; use ${ACTIONS.join(', ')}`);
      }
      if (action !== 'add' && Object.keys(args.options).length > 0) {
        throw new UsageError(
          `digest ${action} takes no key=value options; remove ${Object.keys(args.options).join('=, ')}=`,
        );
      }
      const actor: Actor = { userId: invocation.userId, surface: invocation.surface };
      const now = clock().getTime();
      try {
        switch (action) {
          case 'list':
            if (rest.length > 0)
              throw new UsageError(`digest list takes nothing after it; remove ${rest.join(' ')}`);
            return buildDigestList(store.data.schedules, scheduleStatuses(store.data, now), {
              ...(word === undefined && invocation.surface !== 'slack'
                ? {
                    intro:
                      'Create a digest with `/audience digest add #growth weekly mon 09:00 Europe/Berlin`.',
                  }
                : {}),
            });
          case 'add': {
            const input = parseAddCommand(rest, args.options);
            const schedule = await createSchedule(store, input, invocation.userId, now);
            return buildScheduleCreated(
              schedule,
              nextOccurrences(schedule, now, 3).map((o) => o.at),
            );
          }
          case 'preview': {
            const schedule = findSchedule(store.data, one(rest, action));
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
          case 'run': {
            const schedule = findSchedule(store.data, one(rest, action));
            assertCanManage(schedule, actor, 'send', policy);
            if (!digests) {
              throw new UsageError(
                'sending needs the running app: use /audience digest run in Slack or the local console',
              );
            }
            const result = await digests.runNow(schedule.id, actor);
            return sentReply(result.status, result.key, result.channel, result.code, result.paused);
          }
          case 'retry': {
            const key = one(rest, action);
            if (!digests) {
              throw new UsageError(
                'sending needs the running app: use /audience digest retry in Slack or the local console',
              );
            }
            const result = await digests.retry(key, actor);
            return sentReply(result.status, result.key, result.channel, result.code, result.paused);
          }
          case 'pause':
          case 'resume': {
            const schedule = findSchedule(store.data, one(rest, action));
            assertCanManage(schedule, actor, action, policy);
            const pause = action === 'pause';
            if (schedule.paused === pause) {
              return buildDigestNotice(`Digest ${schedule.id} is already ${pause ? 'paused' : 'running'}.`, {
                scheduleId: schedule.id,
              });
            }
            await setPaused(store, schedule, pause, actor, now, graceMs);
            const next = nextOccurrences(schedule, now, 1)[0];
            return buildDigestNotice(
              pause
                ? `:double_vertical_bar: Digest *${schedule.id}* (${channelLabel(schedule.channel_id)}, ${describeCadence(schedule)}) is paused. Resume it with \`/audience digest resume ${schedule.id}\`.`
                : `:arrow_forward: Digest *${schedule.id}* resumed.${next ? ` Next delivery ${formatInZone(next.at, schedule.time_zone)}.` : ''}`,
              { scheduleId: schedule.id, paused: pause },
            );
          }
          case 'delete': {
            const schedule = findSchedule(store.data, one(rest, action));
            assertCanManage(schedule, actor, action, policy);
            await deleteSchedule(store, schedule, actor, now);
            return buildDigestNotice(
              `:wastebasket: Digest *${schedule.id}* (${channelLabel(schedule.channel_id)}) deleted.`,
              {
                scheduleId: schedule.id,
                deleted: true,
              },
            );
          }
          default:
            throw new UsageError(`"${word}" is not a digest action; use ${ACTIONS.join(', ')}`);
        }
      } catch (error) {
        // Digest refusals are user input problems: show them with the usage, like any UsageError.
        if (error instanceof DigestError) throw new UsageError(error.message);
        // The CLI while the app runs: only the app may write the data file.
        if (error instanceof StoreError && error.code === 'locked') {
          throw new UsageError(
            `nothing was changed: the running app holds the data file; manage digests there (/audience digest in Slack or the app's console). ${error.message}`,
          );
        }
        throw error;
      }
    },
  };
}

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
