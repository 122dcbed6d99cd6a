import type { KnownBlock } from '@slack/types';
import {
  formatChange,
  formatCompact,
  formatMoney,
  formatPercent,
  formatUtcMinute,
} from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import type { ContentSummary } from '../engine/content-metrics.ts';
import type { AudienceStats, Tally } from '../engine/stats.ts';
import {
  type Audience,
  type CohortRule,
  changeVisible,
  cohortCount,
  fewerThan,
  hides,
  suppressSmallCohorts,
} from '../privacy/cohorts.ts';
import { context, escapeMrkdwn, fallbackText, fields, header, section } from './kit.ts';

/**
 * The `/audience stats` reply: headline numbers with week-over-week change, top values, freshness. For a
 * channel (`audience: 'channel'`), counts of fewer than `minCohortSize` people read "fewer than 10" and the
 * figures derived from them (share, revenue, changes) are left out (see privacy/cohorts.ts).
 */
export function buildStatsMessage(
  stats: AudienceStats,
  options: {
    currency: string;
    filter?: string | null;
    audience?: Audience;
    minCohortSize?: number;
    /** The connected platforms' content insights (whole audience only: they are not per person). */
    content?: readonly ContentSummary[];
  },
): Reply {
  const { currency } = options;
  const rule: CohortRule = {
    audience: options.audience ?? 'private',
    minCohortSize: options.minCohortSize ?? 10,
  };
  const people = (count: number) => cohortCount(count, rule, formatCompact);
  const vs = (now: number, before: number, label = 'vs last week', counts = true) => {
    if (counts && !changeVisible(now, before, rule)) return '';
    const change = formatChange(now, before);
    return change ? ` (${change} ${label})` : '';
  };
  const share = (count: number) =>
    stats.total > 0 && !hides(count, rule) ? ` · ${formatPercent(count / stats.total)}` : '';
  // Revenue of the last 30 days describes its purchasers: hidden with them when they are a small group.
  const revenueHidden = hides(stats.purchasers30d, rule);
  const hiddenRevenue = `not shown (${fewerThan(rule.minCohortSize)} purchasers)`;
  const title = options.filter ? `Audience at a glance: ${options.filter}` : 'Audience at a glance';

  const blocks: KnownBlock[] = [header(title)];
  if (stats.total === 0) return emptyReply(stats, title, options.filter ?? null);

  blocks.push(
    fields([
      `*Audience*\n${people(stats.total)}${vs(stats.total, stats.totalWeekAgo)}`,
      `*New this week*\n${people(stats.newThisWeek)}${vs(stats.newThisWeek, stats.newLastWeek)}`,
      `*Active, last 7 days*\n${people(stats.active7d)}${share(stats.active7d)}${vs(stats.active7d, stats.activePrevWeek)}`,
      `*Active, last 30 days*\n${people(stats.active30d)}${share(stats.active30d)}`,
      `*Engagement rate, 30 days*\n${engagementLine(stats, rule)}`,
      `*Purchasers, 30 days*\n${people(stats.purchasers30d)}${share(stats.purchasers30d)}`,
      `*Revenue, 30 days*\n${
        revenueHidden
          ? hiddenRevenue
          : `${formatMoney(stats.revenue30d, currency)}${vs(stats.revenue30d, stats.revenuePrev30d, 'vs previous 30 days', false)}`
      }`,
      `*Revenue per user, 30 days*\n${revenueHidden ? hiddenRevenue : formatMoney(stats.revenuePerUser, currency)}`,
    ]),
  );
  const tops = topValues(stats, rule);
  if (tops.lines.length) blocks.push(section(tops.lines.join('\n')));
  const content = options.content ?? [];
  if (content.length > 0) blocks.push(section(contentLines(content)));
  blocks.push(context(statsNotes(stats, rule, options.filter ?? null)));

  const text =
    `${title}: ${people(stats.total)} profiles${vs(stats.total, stats.totalWeekAgo)}, ` +
    `${people(stats.active7d)} active in the last 7 days, ` +
    `${revenueHidden ? 'revenue not shown' : `${formatMoney(stats.revenue30d, currency)} revenue`} in the last 30 days.`;
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks,
    data: { ...statsData(stats, rule, tops.shown, revenueHidden), content },
  };
}

/** One line per connection: its content's latest insights from the platform, summed. */
function contentLines(content: readonly ContentSummary[]): string {
  const lines = content.slice(0, 10).map((c) => {
    const what = c.kind === 'youtube' ? 'video' : c.kind === 'shopify' ? 'product' : 'post';
    const figures = c.totals
      .slice(0, 5)
      .map((t) => `${t.name} ${formatCompact(t.value)}`)
      .join(' · ');
    const items = `${formatCompact(c.items)} ${what}${c.items === 1 ? '' : 's'}`;
    return `• ${escapeMrkdwn(c.connection)} (${c.kind}): ${items} · ${figures} (as of ${formatUtcMinute(c.latestAt)} UTC)`;
  });
  return `*Content on connected platforms* (the platforms' latest insights, summed)\n${lines.join('\n')}`;
}

/**
 * Engaged people ÷ people reached (or ÷ the audience when no views are recorded), with what it divides by. The
 * rate reveals how many people engaged, so a channel does not see it when they are a small group.
 */
function engagementLine(stats: AudienceStats, rule: CohortRule): string {
  if (stats.engagementRate === null) return 'no views or engagement recorded';
  if (hides(stats.engaged30d, rule) || hides(stats.reach30d, rule)) {
    return `not shown (${fewerThan(rule.minCohortSize)} people)`;
  }
  const rate = formatPercent(stats.engagementRate);
  return stats.engagementBase === 'reach'
    ? `${rate} of ${formatCompact(stats.reach30d)} people reached`
    : `${rate} of ${formatCompact(stats.total)} followers (no views recorded, so reach is unknown)`;
}

function emptyReply(stats: AudienceStats, title: string, filter: string | null): Reply {
  const blocks: KnownBlock[] = [
    header(title),
    section(
      filter
        ? `No profiles match \`${escapeMrkdwn(filter)}\`. Loosen the filter or run \`/audience stats\` for everyone.`
        : 'The audience is empty. Import profiles with `audience import profiles FILE` or load the sample with `audience sample`.',
    ),
  ];
  return {
    text: fallbackText(escapeMrkdwn(`${title}: no profiles.`)),
    blocks,
    data: { ...stats, cohortSize: 0 },
  };
}

type TopLists = AudienceStats['top'];

// Values held by a small group (a country with three people) would point at them: not shown in channels.
function topValues(stats: AudienceStats, rule: CohortRule): { shown: TopLists; lines: string[] } {
  const visible = (items: readonly Tally[]) => items.filter((t) => !hides(t.count, rule));
  const shown = {
    countries: visible(stats.top.countries),
    platforms: visible(stats.top.platforms),
    interests: visible(stats.top.interests),
  };
  const lines: string[] = [];
  if (shown.countries.length) lines.push(`*Top countries:* ${listTally(shown.countries)}`);
  if (shown.platforms.length) lines.push(`*Platforms:* ${listTally(shown.platforms)}`);
  if (shown.interests.length) lines.push(`*Interests:* ${listTally(shown.interests)}`);
  return { shown, lines };
}

function statsNotes(stats: AudienceStats, rule: CohortRule, filter: string | null): string[] {
  const notes = [`As of ${formatUtcMinute(stats.asOf)} UTC`];
  if (rule.audience === 'channel')
    notes.push(`groups of ${fewerThan(rule.minCohortSize)} people are not shown`);
  if (stats.latestInteraction !== null) {
    notes.push(`latest activity ${formatUtcMinute(stats.latestInteraction)} UTC`);
  }
  if (filter) notes.push(`filter \`${escapeMrkdwn(filter)}\``);
  return notes;
}

// cohortSize: answers about fewer than MIN_COHORT_SIZE people are not shared to channels (see share-messages.ts).
function statsData(
  stats: AudienceStats,
  rule: CohortRule,
  top: TopLists,
  revenueHidden: boolean,
): Record<string, unknown> {
  if (rule.audience !== 'channel') return { ...stats, cohortSize: stats.total };
  return {
    ...suppressSmallCohorts(
      { ...stats, top, cohortSize: stats.total },
      [
        'newThisWeek',
        'newLastWeek',
        'active7d',
        'activePrevWeek',
        'active30d',
        'purchasers30d',
        'reach30d',
        'engaged30d',
      ],
      rule.minCohortSize,
    ),
    ...(hides(stats.engaged30d, rule) || hides(stats.reach30d, rule) ? { engagementRate: null } : {}),
    ...(revenueHidden ? { revenue30d: null, revenuePrev30d: null, revenuePerUser: null } : {}),
  };
}

function listTally(items: readonly Tally[]): string {
  return items.map((t) => `${escapeMrkdwn(t.value)} ${formatPercent(t.share, 0)}`).join(' · ');
}
