/**
 * The digest a channel receives: text first and complete without images. Pure: the content is computed
 * elsewhere (src/digest/content.ts); this decides what may be shown in a channel (counts below the
 * minimum cohort size read "fewer than N") and lays it out within Block Kit's limits.
 */

import { tz } from '@date-fns/tz';
import type { KnownBlock } from '@slack/types';
import { format } from 'date-fns/format';
import type { DigestReport } from '../domain/digest.ts';
import { formatChange, formatCompact, formatMoney, formatPercent } from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import { formatInZone } from '../domain/zoned-time.ts';
import { commandButton } from './command-buttons.ts';
import {
  actions,
  button,
  capBlocks,
  context,
  escapeMrkdwn,
  fallbackText,
  fields,
  header,
  section,
  truncate,
} from './kit.ts';

/** Action id of the "Pause this digest" button; its value is the schedule id. */
export const DIGEST_PAUSE_ACTION = 'digest_pause';
/** A digest this much later than due carries a note saying so. */
export const LATE_NOTE_AFTER_MS = 5 * 60_000;

/** Where and when a digest goes, for its header and notes. */
export interface DigestMessageContext {
  scheduleId: string;
  cadence: 'daily' | 'weekly' | 'monthly';
  timeZone: string;
  /** When the occurrence was due; null for "send now" and previews. */
  dueAt: number | null;
  /** How late it goes out (ms after due). */
  lateByMs: number;
  currency: string;
  minCohortSize: number;
  /** A preview for one person: no Pause button. */
  preview?: boolean;
}

const SEGMENTS_PER_SECTION = 6;
const NAME_LENGTH = 60;

/** Builds the digest message for a channel (or a private preview). */
export function buildDigestMessage(content: DigestReport, ctx: DigestMessageContext): Reply {
  const title = `${capitalise(ctx.cadence)} audience digest`;
  const blocks: KnownBlock[] = [header(title), ...noticeBlocks(content, ctx)];
  if (!content.hasData) {
    blocks.push(
      section(
        'There is no audience data yet, so there is nothing to report. Import profiles with `audience import profiles FILE` or load the sample audience.',
      ),
    );
    return finish(blocks, `${title}: there is no audience data yet.`, content, ctx);
  }
  blocks.push(totalsBlock(content, ctx), ...segmentBlocks(content, ctx));
  if (content.notes.length > 0) blocks.push(context(content.notes.map((note) => escapeMrkdwn(note))));
  blocks.push(freshness(content, ctx));

  const biggest = content.movements[0];
  const text =
    `${title}: ${people(content.totals.total, ctx.minCohortSize)}` +
    (content.k > 0 ? `, ${content.k} segments` : '') +
    (biggest && content.comparedWith
      ? `; biggest movement: ${people(biggest.count, ctx.minCohortSize)} ${biggest.from} became ${biggest.to}`
      : '') +
    '.';
  return finish(blocks, text, content, ctx);
}

/** What the digest is and how current: the data's time, a late delivery, data unchanged for a week. */
function noticeBlocks(content: DigestReport, ctx: DigestMessageContext): KnownBlock[] {
  const sub = [`Data as of ${utc(content.asOf)} UTC`, `digest ${escapeMrkdwn(ctx.scheduleId)}`];
  if (ctx.preview) sub.unshift('Preview, only visible to you');
  const blocks: KnownBlock[] = [context(sub)];
  if (ctx.dueAt !== null && ctx.lateByMs > LATE_NOTE_AFTER_MS) {
    blocks.push(
      section(
        `:hourglass: This digest was due ${escapeMrkdwn(formatInZone(ctx.dueAt, ctx.timeZone))} and goes out ${duration(ctx.lateByMs)} late: Audience Insights was not running at the time.`,
      ),
    );
  }
  if (content.unchanged) {
    const { since, days } = content.unchanged;
    blocks.push(
      section(
        `:calendar: No new data since ${utc(since, 'd MMM yyyy')}: these figures are ${days} days old, the same as in the digest of a week ago.`,
      ),
    );
  }
  return blocks;
}

function totalsBlock(content: DigestReport, ctx: DigestMessageContext): KnownBlock {
  const n = (count: number) => people(count, ctx.minCohortSize);
  const t = content.totals;
  const vs = (now: number, before: number, label = 'vs last week') => {
    if (now < ctx.minCohortSize || before < ctx.minCohortSize) return '';
    const change = formatChange(now, before);
    return change ? ` (${change} ${label})` : '';
  };
  return fields(
    [
      `*Audience*\n${n(t.total)}${vs(t.total, t.totalWeekAgo)}`,
      `*Active, last 7 days*\n${n(t.active7d)}${vs(t.active7d, t.activePrevWeek)}`,
      `*New this week*\n${n(t.newThisWeek)}${vs(t.newThisWeek, t.newLastWeek)}`,
      // Revenue describes its purchasers: hidden with them when they are fewer than the minimum cohort.
      `*Revenue, last 30 days*\n${
        t.purchasers30d < ctx.minCohortSize
          ? `not shown (${n(t.purchasers30d)} purchasers)`
          : `${formatMoney(t.revenue30d, ctx.currency)}${vs(t.revenue30d, t.revenuePrev30d, 'vs previous 30 days')}`
      }`,
      `*Purchasers, last 30 days*\n${n(t.purchasers30d)}`,
    ],
    '*Audience this week*',
  );
}

/** This week's segments (largest first) and, when there is a comparison, who moved where. */
function segmentBlocks(content: DigestReport, ctx: DigestMessageContext): KnownBlock[] {
  const n = (count: number) => people(count, ctx.minCohortSize);
  const blocks: KnownBlock[] = [];
  if (content.segments.length > 0) {
    const compared = content.comparedWith
      ? `compared with the segmentation of ${utc(content.comparedWith.createdAt, 'd MMM yyyy')}`
      : 'no segmentation from a week earlier to compare with yet';
    const lines = [...content.segments]
      .sort((a, b) => b.size - a.size || a.index - b.index)
      .map((s) => segmentLine(s, content, ctx));
    blocks.push(section(`*${content.k} segments this week*, ${compared}`));
    for (let i = 0; i < lines.length; i += SEGMENTS_PER_SECTION) {
      blocks.push(section(lines.slice(i, i + SEGMENTS_PER_SECTION).join('\n')));
    }
  }
  if (!content.comparedWith) return blocks;
  const moves = content.movements.map((m) => `• ${n(m.count)} ${name(m.from)} became ${name(m.to)}`);
  const appeared = content.segments
    .filter((s) => s.previous === null)
    .map((s) => `${name(s.name)} (${n(s.size)})`);
  const vanished = content.vanished.map((s) => `${name(s.name)} (${n(s.size)} last week)`);
  const parts = [
    moves.length > 0
      ? `*Biggest movements*\n${moves.join('\n')}`
      : '*Biggest movements*\nNobody changed segment.',
  ];
  if (appeared.length > 0) parts.push(`*New this week*: ${appeared.join(', ')}`);
  if (vanished.length > 0) parts.push(`*Gone since last week*: ${vanished.join(', ')}`);
  blocks.push(section(parts.join('\n\n')));
  return blocks;
}

function freshness(content: DigestReport, ctx: DigestMessageContext): KnownBlock {
  return context([
    content.latestInteraction === null
      ? 'no interactions yet'
      : `latest interaction ${utc(content.latestInteraction)} UTC`,
    content.updatedAt === null ? 'data never updated' : `data updated ${utc(content.updatedAt)} UTC`,
    `source: ${escapeMrkdwn(content.source ?? 'none')}`,
    `counts under ${ctx.minCohortSize} are not shown`,
  ]);
}

function segmentLine(
  s: DigestReport['segments'][number],
  content: DigestReport,
  ctx: DigestMessageContext,
): string {
  const small = s.size < ctx.minCohortSize;
  const parts = [
    `*${s.index + 1}. ${name(s.name)}*: ${people(s.size, ctx.minCohortSize)}${small ? '' : ` (${formatPercent(s.share)})`}`,
  ];
  if (content.comparedWith) {
    if (s.previous === null) parts.push('new this week');
    else if (!small && s.previous.size >= ctx.minCohortSize) {
      const delta = s.size - s.previous.size;
      const renamed = s.previous.name !== s.name ? `, was ${name(s.previous.name)}` : '';
      parts.push(
        `${delta === 0 ? '±0' : `${delta > 0 ? '+' : '−'}${formatCompact(Math.abs(delta))}`} vs last week${renamed}`,
      );
    }
  }
  if (s.predictedRevenue !== null && !small) {
    parts.push(`${formatMoney(s.predictedRevenue, ctx.currency)} expected next 30 days`);
  }
  if (s.topProducts.length > 0) {
    parts.push(`top picks: ${s.topProducts.map((p) => truncate(escapeMrkdwn(p), 40)).join(', ')}`);
  }
  return parts.join(' · ');
}

function finish(blocks: KnownBlock[], text: string, content: DigestReport, ctx: DigestMessageContext): Reply {
  const buttons = [commandButton('Open details', content.detailsCommand, { key: 'digest-details' })].filter(
    (b) => b !== null,
  );
  if (!ctx.preview) buttons.push(button('Pause this digest', DIGEST_PAUSE_ACTION, ctx.scheduleId, 'danger'));
  const all = [...capBlocks(blocks, 49)];
  if (buttons.length > 0) all.push(actions(buttons, 'digest_actions'));
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks: all,
    data: {
      scheduleId: ctx.scheduleId,
      dataVersion: content.dataVersion,
      k: content.k,
      total: content.totals.total,
      segments: content.segments.map((s) => ({ name: s.name, size: s.size, previous: s.previous })),
      movements: content.movements,
    },
  };
}

/** A count of people as a channel may see it: "fewer than 10" below the minimum cohort size. */
export function people(count: number, minCohortSize: number): string {
  if (count < minCohortSize) return `fewer than ${minCohortSize}`;
  return `${formatCompact(count)}`;
}

function name(text: string): string {
  return truncate(escapeMrkdwn(text), NAME_LENGTH);
}

function utc(at: number, pattern = 'd MMM yyyy HH:mm'): string {
  return format(at, pattern, { in: tz('UTC') });
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}
