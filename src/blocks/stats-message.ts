import type { KnownBlock } from '@slack/types';
import { format } from 'date-fns';
import type { AudienceStats, Tally } from '../engine/stats.ts';
import type { Reply } from '../router/types.ts';
import { formatChange, formatCompact, formatMoney, formatPercent } from './format.ts';
import { context, escapeMrkdwn, fallbackText, fields, header, section } from './kit.ts';

/** The `/audience stats` reply: headline numbers with week-over-week change, top values, freshness. */
export function buildStatsMessage(
  stats: AudienceStats,
  options: { currency: string; filter?: string | null },
): Reply {
  const { currency } = options;
  const vs = (now: number, before: number, label = 'vs last week') => {
    const change = formatChange(now, before);
    return change ? ` (${change} ${label})` : '';
  };
  const share = (count: number) => (stats.total > 0 ? ` · ${formatPercent(count / stats.total)}` : '');
  const title = options.filter ? `Audience at a glance: ${options.filter}` : 'Audience at a glance';

  const blocks: KnownBlock[] = [header(title)];
  if (stats.total === 0) {
    blocks.push(
      section(
        options.filter
          ? `No profiles match \`${escapeMrkdwn(options.filter)}\`. Loosen the filter or run \`/audience stats\` for everyone.`
          : 'The audience is empty. Import profiles with `audience import profiles FILE` or load the sample with `audience sample`.',
      ),
    );
    return { text: fallbackText(`${title}: no profiles.`), blocks, data: stats };
  }

  blocks.push(
    fields([
      `*Audience*\n${formatCompact(stats.total)}${vs(stats.total, stats.totalWeekAgo)}`,
      `*New this week*\n${formatCompact(stats.newThisWeek)}${vs(stats.newThisWeek, stats.newLastWeek)}`,
      `*Active, last 7 days*\n${formatCompact(stats.active7d)}${share(stats.active7d)}${vs(stats.active7d, stats.activePrevWeek)}`,
      `*Active, last 30 days*\n${formatCompact(stats.active30d)}${share(stats.active30d)}`,
      `*Engagement rate, 30 days*\n${
        stats.engagementRate === null
          ? 'no views recorded'
          : `${formatPercent(stats.engagementRate)} of ${formatCompact(stats.views30d)} views`
      }`,
      `*Purchasers, 30 days*\n${formatCompact(stats.purchasers30d)}${share(stats.purchasers30d)}`,
      `*Revenue, 30 days*\n${formatMoney(stats.revenue30d, currency)}${vs(
        stats.revenue30d,
        stats.revenuePrev30d,
        'vs previous 30 days',
      )}`,
      `*Revenue per user, 30 days*\n${formatMoney(stats.revenuePerUser, currency)}`,
    ]),
  );
  const tops: string[] = [];
  if (stats.top.countries.length) tops.push(`*Top countries:* ${listTally(stats.top.countries)}`);
  if (stats.top.platforms.length) tops.push(`*Platforms:* ${listTally(stats.top.platforms)}`);
  if (stats.top.interests.length) tops.push(`*Interests:* ${listTally(stats.top.interests)}`);
  if (tops.length) blocks.push(section(tops.join('\n')));

  const notes = [`As of ${format(stats.asOf, 'yyyy-MM-dd HH:mm')} UTC`];
  if (stats.latestInteraction !== null) {
    notes.push(`latest activity ${format(stats.latestInteraction, 'yyyy-MM-dd HH:mm')}`);
  }
  if (options.filter) notes.push(`filter \`${escapeMrkdwn(options.filter)}\``);
  blocks.push(context(notes));

  const text =
    `${title}: ${formatCompact(stats.total)} profiles${vs(stats.total, stats.totalWeekAgo)}, ` +
    `${formatCompact(stats.active7d)} active in the last 7 days, ` +
    `${formatMoney(stats.revenue30d, currency)} revenue in the last 30 days.`;
  return { text: fallbackText(text), blocks, data: stats };
}

function listTally(items: readonly Tally[]): string {
  return items.map((t) => `${escapeMrkdwn(t.value)} ${formatPercent(t.share, 0)}`).join(' · ');
}
