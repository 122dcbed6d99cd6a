/**
 * The App Home tab: an overview for managers. Pure: everything it shows is passed in (stats already
 * computed, the latest segment run, digest schedules and their statuses), so the same input gives the same view.
 */
import { tz } from '@date-fns/tz';
import type { HomeView, KnownBlock } from '@slack/types';
import { format } from 'date-fns/format';
import type { ScheduleStatus } from '../domain/digest.ts';
import { formatChange, formatCompact, formatCount, formatMoney, formatPercent } from '../domain/format.ts';
import type { AudienceData, DigestSchedule, SegmentRun } from '../domain/types.ts';
import type { AudienceStats } from '../engine/stats.ts';
import { type ConnectionSummary, connectionsSection } from './connections-message.ts';
import { retryButtons, scheduleLineWithId } from './digest-list.ts';
import {
  actions,
  capBlocks,
  context,
  divider,
  escapeMrkdwn,
  fields,
  header,
  LIMITS,
  section,
  truncate,
} from './kit.ts';

/** Everything the Home tab shows. */
export interface HomeInput {
  /** Stats of the whole audience as of `now`; null when there are no profiles. */
  stats: AudienceStats | null;
  meta: AudienceData['meta'];
  /** The latest stored segmentation, if any. */
  segmentRun: SegmentRun | null;
  schedules: readonly DigestSchedule[];
  /** Each schedule's next delivery and latest delivery record, by schedule id (the Retry buttons follow them). */
  statuses?: ReadonlyMap<string, ScheduleStatus>;
  currency: string;
  /** Platform connections (without credentials); the section shows only when there is one. */
  connections?: readonly ConnectionSummary[];
}

// Segment lines per section block, and segments listed in all, keep the view readable and within limits.
const SEGMENTS_PER_SECTION = 10;
const MAX_SEGMENTS = 40;
const MAX_SCHEDULES = 30;
// Escaped text is cut after escaping, so ten lines of the longest names still fit one 3000-character section.
const NAME_LENGTH = 120;

/** Builds the `views.publish` payload of the App Home tab. */
export function buildHomeView(input: HomeInput): HomeView {
  const { stats, meta, currency } = input;
  const when = (t: number) => format(t, 'd MMM yyyy HH:mm', { in: tz('UTC') });
  const blocks: KnownBlock[] = [header('Audience Insights')];

  if (stats === null || stats.total === 0) {
    blocks.push(
      section(
        'There is no audience data yet. Import profiles with `audience import profiles FILE`, or load the sample audience with `audience sample`.',
      ),
    );
  } else {
    const vs = (now: number, before: number, label = 'vs last week') => {
      const change = formatChange(now, before);
      return change ? `\n${change} ${label}` : '';
    };
    blocks.push(
      section(`*Your audience at a glance*, as of ${when(stats.asOf)} UTC`),
      fields([
        `*Audience*\n${formatCount(stats.total, 'person', 'people')}${vs(stats.total, stats.totalWeekAgo)}`,
        `*New this week*\n${formatCompact(stats.newThisWeek)}${vs(stats.newThisWeek, stats.newLastWeek)}`,
        `*Active, last 7 days*\n${formatCompact(stats.active7d)} · ${formatPercent(stats.active7d / stats.total)}${vs(stats.active7d, stats.activePrevWeek)}`,
        `*Active, last 30 days*\n${formatCompact(stats.active30d)} · ${formatPercent(stats.active30d / stats.total)}`,
        `*Revenue, 30 days*\n${formatMoney(stats.revenue30d, currency)}${vs(stats.revenue30d, stats.revenuePrev30d, 'vs previous 30 days')}`,
        `*Purchasers, 30 days*\n${formatCompact(stats.purchasers30d)} · ${formatPercent(stats.purchasers30d / stats.total)}`,
      ]),
    );
  }
  const freshness = [
    meta.updatedAt === null ? 'data never updated' : `data updated ${when(meta.updatedAt)} UTC`,
    `source: ${meta.source ?? 'none'}`,
    `data version ${meta.dataVersion}`,
  ];
  blocks.push(context(freshness), divider(), header('Latest segments'));
  blocks.push(...segmentBlocks(input.segmentRun, meta.dataVersion, when));

  if (input.schedules.length > 0) {
    blocks.push(
      divider(),
      header('Digest schedules'),
      ...scheduleBlocks(input.schedules, input.statuses ?? new Map()),
    );
  }
  if ((input.connections ?? []).length > 0) {
    blocks.push(divider(), ...connectionsSection(input.connections ?? []));
  }
  blocks.push(
    divider(),
    context([
      'Ask for details with `/audience help` in any channel; answers are private until you share them.',
    ]),
  );
  return { type: 'home', blocks: capBlocks(blocks, LIMITS.surfaceBlocks) };
}

function segmentBlocks(
  run: SegmentRun | null,
  dataVersion: number,
  when: (t: number) => string,
): KnownBlock[] {
  if (run === null || run.k === 0) {
    return [section('No segments yet. Run `/audience segments` to find groups of similar people.')];
  }
  const total = run.sizes.reduce((a, b) => a + b, 0);
  const order = run.sizes.map((size, i) => ({ i, size })).sort((a, b) => b.size - a.size || a.i - b.i);
  const lines = order.slice(0, MAX_SEGMENTS).map(({ i, size }) => {
    const name = truncate(escapeMrkdwn(run.names[i] ?? `Segment ${i + 1}`), NAME_LENGTH);
    const share = total > 0 ? ` (${formatPercent(size / total)})` : '';
    return `*${i + 1}. ${name}*: ${formatCount(size, 'person', 'people')}${share}`;
  });
  const blocks: KnownBlock[] = [];
  for (let start = 0; start < lines.length; start += SEGMENTS_PER_SECTION) {
    blocks.push(section(lines.slice(start, start + SEGMENTS_PER_SECTION).join('\n')));
  }
  const notes = [`${run.k} segments found ${when(run.created_at)} UTC`];
  if (order.length > MAX_SEGMENTS) notes.push(`${order.length - MAX_SEGMENTS} smaller segments not listed`);
  if (run.data_version !== dataVersion)
    notes.push('the data changed since: run `/audience segments` to refresh');
  blocks.push(context(notes));
  return blocks;
}

function scheduleBlocks(
  schedules: readonly DigestSchedule[],
  statuses: ReadonlyMap<string, ScheduleStatus>,
): KnownBlock[] {
  const shown = schedules.slice(0, MAX_SCHEDULES);
  // The same line as `/audience digest list`: next delivery in the schedule's zone, latest status, error.
  const lines = shown.map((s) => scheduleLineWithId(s, statuses.get(s.id)));
  const blocks: KnownBlock[] = [];
  for (let start = 0; start < lines.length; start += SEGMENTS_PER_SECTION) {
    blocks.push(section(lines.slice(start, start + SEGMENTS_PER_SECTION).join('\n')));
  }
  if (schedules.length > MAX_SCHEDULES)
    blocks.push(context([`…and ${schedules.length - MAX_SCHEDULES} more`]));
  const retry = retryButtons(shown, statuses);
  if (retry.length > 0) blocks.push(actions(retry, 'digest_retry'));
  return blocks;
}
