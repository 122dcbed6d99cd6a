/**
 * Replies of `/audience digest` (list, confirmations) and the one-line schedule summary shared with the
 * App Home, so both show the same: channel, cadence, local time and zone, next delivery in that zone, the
 * latest delivery and the last error. Pure.
 *
 * Every reply here is about managing digests, never shareable: re-running `digest add` or `digest run`
 * from a Share button would create or send again, so they are marked `perPerson` (see share-messages.ts).
 */
import type { Button, KnownBlock } from '@slack/types';
import type { ScheduleStatus } from '../domain/digest.ts';
import type { Reply } from '../domain/reply.ts';
import type { DeliveryRecord, DigestSchedule } from '../domain/types.ts';
import { formatInZone, WEEKDAY_NAMES } from '../domain/zoned-time.ts';
import { commandButton } from './command-buttons.ts';
import { channelLabel } from './digest-notice.ts';
import { actions, capBlocks, context, escapeMrkdwn, fallbackText, header, section, truncate } from './kit.ts';

/** Action id prefix of the App Home's Retry buttons; the value is the delivery key. */
export const DIGEST_RETRY_PREFIX = 'digest_retry:';
/** Matches Retry action ids (for `app.action`). */
export const DIGEST_RETRY_PATTERN = /^digest_retry:/;

const LINES_PER_SECTION = 8;
const MAX_LISTED = 40;
const MAX_RETRY_BUTTONS = 5;

/** How a schedule is described: `weekly Mon, Thu at 09:00 Europe/Berlin`. */
export function describeCadence(
  s: Pick<DigestSchedule, 'cadence' | 'weekdays' | 'local_time' | 'time_zone'>,
): string {
  const days = s.weekdays.map(weekday);
  let when: string = s.cadence;
  if (s.cadence === 'weekly' && days.length > 0) when = `weekly ${days.join(', ')}`;
  if (s.cadence === 'monthly') when = `monthly, first ${days[0] ?? 'Mon'}`;
  return `${when} at ${short(s.local_time, 20)} ${short(s.time_zone, 60)}`;
}

/**
 * One schedule in one line: `<#C1>: weekly Mon at 09:00 Europe/Berlin · next Mon 8 Jun 2026, 09:00 GMT+2 ·
 * last: delivered … · :warning: last error: …`. Parts without information are left out.
 */
export function scheduleLine(s: DigestSchedule, status?: ScheduleStatus): string {
  const parts = [`${truncate(channelLabel(s.channel_id), 80)}: ${describeCadence(s)}`];
  if (s.paused) parts.push('paused');
  else if (status?.next != null) parts.push(`next ${escapeMrkdwn(formatInZone(status.next, s.time_zone))}`);
  if (status?.last) parts.push(`last: ${describeDelivery(status.last, s.time_zone)}`);
  if (s.last_error) parts.push(`:warning: last error: ${short(s.last_error, 120)}`);
  return parts.join(' · ');
}

/** The schedule line led by its id, which tells apart two digests to one channel at one time. */
export function scheduleLineWithId(s: DigestSchedule, status?: ScheduleStatus): string {
  return `*${escapeMrkdwn(s.id)}* ${scheduleLine(s, status)}`;
}

/** A delivery record for people: `delivered Mon 1 Jun 2026, 09:00 GMT+2`, `skipped (…)`. */
export function describeDelivery(record: DeliveryRecord, zone: string): string {
  const when = escapeMrkdwn(formatInZone(record.at, zone));
  switch (record.status) {
    case 'delivered':
      return `delivered ${when}`;
    case 'failed':
      return `failed ${when}`;
    case 'skipped':
      return `skipped ${when}${record.detail ? ` (${short(record.detail, 120)})` : ''}`;
    default:
      return isInterrupted(record) ? `interrupted ${when} (may have been posted)` : `sending since ${when}`;
  }
}

/** Whether a delivery can be sent again by hand: failed, skipped, or interrupted by a stop of the app. */
export function isRetryable(record: DeliveryRecord): boolean {
  return record.status === 'failed' || record.status === 'skipped' || isInterrupted(record);
}

function isInterrupted(record: DeliveryRecord): boolean {
  return record.status === 'started' && (record.detail ?? '').startsWith('interrupted');
}

/** Retry buttons for the latest delivery of each schedule when it can be retried (at most 5). */
export function retryButtons(
  schedules: readonly DigestSchedule[],
  statuses: ReadonlyMap<string, ScheduleStatus>,
): Button[] {
  const buttons: Button[] = [];
  for (const s of schedules) {
    const last = statuses.get(s.id)?.last;
    if (!last || last.status === 'delivered' || last.status === 'skipped' || !isRetryable(last)) continue;
    if (buttons.length >= MAX_RETRY_BUTTONS) break;
    buttons.push({
      type: 'button',
      text: { type: 'plain_text', text: truncate(`Retry ${last.key}`, 75), emoji: true },
      action_id: `${DIGEST_RETRY_PREFIX}${buttons.length}`,
      value: last.key,
    });
  }
  return buttons;
}

/** `/audience digest list`: every schedule with its status, and how to manage them. */
export function buildDigestList(
  schedules: readonly DigestSchedule[],
  statuses: ReadonlyMap<string, ScheduleStatus>,
  options: { intro?: string } = {},
): Reply {
  const blocks: KnownBlock[] = [header('Audience digests')];
  if (options.intro) blocks.push(section(options.intro));
  if (schedules.length === 0) {
    blocks.push(
      section(
        'No digests yet. Create one with `/audience digest` (a form), or `/audience digest add #growth weekly mon 09:00 Europe/Berlin`.',
      ),
    );
    return {
      text: 'No digests yet. Create one with /audience digest.',
      blocks,
      data: { perPerson: true, schedules: [] },
    };
  }
  const lines = schedules.slice(0, MAX_LISTED).map((s) => {
    const owner = /^[UW][A-Z0-9]+$/.test(s.owner_id) ? `<@${s.owner_id}>` : escapeMrkdwn(s.owner_id);
    return `${scheduleLineWithId(s, statuses.get(s.id))} · owner ${owner}`;
  });
  for (let i = 0; i < lines.length; i += LINES_PER_SECTION) {
    blocks.push(section(lines.slice(i, i + LINES_PER_SECTION).join('\n')));
  }
  if (schedules.length > MAX_LISTED) blocks.push(context([`…and ${schedules.length - MAX_LISTED} more`]));
  const retry = schedules
    .map((s) => {
      const last = statuses.get(s.id)?.last;
      return last && last.status !== 'skipped' && isRetryable(last)
        ? commandButton(`Retry ${last.key}`, `digest retry ${last.key}`)
        : null;
    })
    .filter((b): b is Button => b !== null)
    .slice(0, MAX_RETRY_BUTTONS);
  if (retry.length > 0) blocks.push(actions(retry, 'digest_retry'));
  blocks.push(
    context([
      'Manage with `/audience digest preview|run|pause|resume|delete <id>`; only the owner or an admin can change a digest.',
    ]),
  );
  const text = `${schedules.length} digest${schedules.length === 1 ? '' : 's'}: ${schedules
    .slice(0, 10)
    .map((s) => `${s.id} (${s.paused ? 'paused' : s.cadence})`)
    .join(', ')}`;
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks: capBlocks(blocks),
    data: {
      perPerson: true,
      schedules: schedules.map((s) => ({
        ...s,
        next: statuses.get(s.id)?.next ?? null,
        last: statuses.get(s.id)?.last ?? null,
      })),
    },
  };
}

/** The answer to `digest add` (or the modal): what was set up and the next three deliveries in its zone. */
export function buildScheduleCreated(schedule: DigestSchedule, next: readonly number[]): Reply {
  const when = next.map((at) => `• ${escapeMrkdwn(formatInZone(at, schedule.time_zone))}`);
  const where = channelLabel(schedule.channel_id);
  const blocks: KnownBlock[] = [
    section(
      `:white_check_mark: Digest *${escapeMrkdwn(schedule.id)}* set up: ${describeCadence(schedule)}, to ${where}.\n*Next deliveries*\n${when.join('\n')}`,
    ),
    context([
      'Public channels are joined on the first delivery; for a private channel, invite the app with `/invite @Audience Insights`.',
      `Preview it with \`/audience digest preview ${escapeMrkdwn(schedule.id)}\`.`,
    ]),
  ];
  const text = `Digest ${schedule.id} set up: ${schedule.cadence} at ${schedule.local_time} ${schedule.time_zone}. Next: ${next
    .map((at) => formatInZone(at, schedule.time_zone))
    .join('; ')}.`;
  return { text: fallbackText(escapeMrkdwn(text)), blocks, data: { perPerson: true, schedule, next } };
}

/** A short confirmation (paused, resumed, deleted, sent). */
export function buildDigestNotice(message: string, data: Record<string, unknown> = {}): Reply {
  return { text: fallbackText(message), blocks: [section(message)], data: { perPerson: true, ...data } };
}

function weekday(day: number): string {
  return day === 0 ? 'Sun' : (WEEKDAY_NAMES[day - 1] ?? String(day));
}

function short(text: string, max: number): string {
  return truncate(escapeMrkdwn(text), max);
}
