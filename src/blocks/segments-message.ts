import { tz } from '@date-fns/tz';
import type { KnownBlock } from '@slack/types';
import { format } from 'date-fns/format';
import { formatCompact, formatCount, formatPercent } from '../domain/format.ts';
import type { Reply } from '../domain/reply.ts';
import { SEGMENT_DEFAULTS } from '../engine/segment-defaults.ts';
import type { SegmentResult } from '../engine/segments.ts';
import {
  type Audience,
  type CohortRule,
  cohortCount,
  fewerThan,
  hides,
  isSmallCohort,
} from '../privacy/cohorts.ts';
import { commandButton, pageButton } from './command-buttons.ts';
import { actions, capBlocks, context, escapeMrkdwn, fallbackText, header, section } from './kit.ts';

/** Segments shown per message; the rest are one "More" click away (12 segments fit in two pages). */
export const SEGMENTS_PER_PAGE = 8;

/**
 * The `/audience segments` reply: each segment's name, size, revenue share and traits, with next-step buttons.
 * Segments of fewer than `minCohortSize` people are flagged; for a channel (`audience: 'channel'`) their size
 * reads "fewer than 10" and their share, revenue and traits are left out (see privacy/cohorts.ts).
 */
export function buildSegmentsMessage(
  result: SegmentResult,
  options: {
    command: string;
    page?: number;
    filter?: string | null;
    cached?: boolean;
    audience?: Audience;
    minCohortSize?: number;
    /** Which segmentation this is; without it, the reply reads as the default's (as before runs were named). */
    run?: RunInfo;
  },
): Reply {
  const rule: CohortRule = {
    audience: options.audience ?? 'private',
    minCohortSize: options.minCohortSize ?? 10,
  };
  const page = Math.max(1, options.page ?? 1);
  const pages = Math.max(1, Math.ceil(result.segments.length / SEGMENTS_PER_PAGE));
  const shown = result.segments.slice((page - 1) * SEGMENTS_PER_PAGE, page * SEGMENTS_PER_PAGE);
  const total = result.total;
  const blocks: KnownBlock[] = [
    header(
      `${result.k} segments in ${cohortCount(total, rule, formatCompact)} profiles${options.filter ? ` (${options.filter})` : ''}`,
    ),
  ];
  if (options.run) blocks.push(context([runNote(options.run)]));
  for (const warning of result.warnings ?? []) blocks.push(section(`:warning: ${escapeMrkdwn(warning)}`));
  // Buttons run `segment=N` commands, which use the default's numbers: an ad-hoc run shows none.
  const buttons = options.run?.role !== 'ad-hoc';
  for (const segment of shown) blocks.push(...segmentBlocks(segment, rule, buttons));
  const more =
    page < pages
      ? pageButton(
          options.command,
          page + 1,
          `More (${result.segments.length - page * SEGMENTS_PER_PAGE} more segments)`,
        )
      : null;
  if (more) blocks.push(actions([more]));
  blocks.push(context(qualityNotes(result, { page, pages, cached: options.cached ?? false })));

  const names = result.segments
    .map(
      (s) => `${s.name} (${hides(s.size, rule) ? fewerThan(rule.minCohortSize) : formatPercent(s.share, 0)})`,
    )
    .join(', ');
  const text = `${result.k} segments in ${cohortCount(total, rule, formatCompact)} profiles: ${names}.`;
  return { text: fallbackText(text), blocks: capBlocks(blocks), data: summarize(result, rule) };
}

/** One segment: its name, figures and traits (left out for a channel when it is small), and its buttons. */
function segmentBlocks(
  segment: SegmentResult['segments'][number],
  rule: CohortRule,
  buttons: boolean,
): KnownBlock[] {
  const number = segment.index + 1;
  const hidden = hides(segment.size, rule);
  // A small segment's averages describe a handful of people: not for a channel.
  const traits = hidden
    ? ''
    : segment.traits
        .slice(0, 3)
        .map((t) => `• ${escapeMrkdwn(t.text)}`)
        .join('\n');
  const figures = hidden
    ? `${fewerThan(rule.minCohortSize)} people`
    : `${formatCount(segment.size, 'person', 'people')} (${formatPercent(segment.share)}) · ${formatPercent(segment.revenueShare)} of revenue`;
  const flag = isSmallCohort(segment.size, rule.minCohortSize)
    ? `\n:warning: _small segment (under ${rule.minCohortSize} people): ${hidden ? 'details not shown here' : 'its figures are hidden when shared to a channel'}_`
    : '';
  const blocks: KnownBlock[] = [
    section(`*${number}. ${escapeMrkdwn(segment.name)}*: ${figures}${flag}${traits ? `\n${traits}` : ''}`),
  ];
  if (!buttons) return blocks;
  const run = [
    commandButton('Recommend for this segment', `recommend segment=${number}`),
    commandButton('Predict for this segment', `predict segment=${number}`),
  ].filter((b) => b !== null);
  blocks.push(actions(run, `segment-${number}`));
  return blocks;
}

/** Which segmentation a reply shows, so people know which numbers `segment=N` and the buttons use. */
export interface RunInfo {
  createdAt: number;
  /** The default segmentation, one just saved as the default, or an ad-hoc run beside it. */
  role: 'default' | 'saved' | 'ad-hoc';
  /** When the current default was made (null: none yet, it is made when first needed). */
  defaultCreatedAt: number | null;
  /** The command that makes this run the default (null for a filtered run, which cannot be). */
  saveCommand: string | null;
}

/** A segmentation as replies name it: `the 7 Dec segmentation`. */
export function segmentationName(createdAt: number): string {
  return `the ${format(createdAt, 'd MMM', { in: tz('UTC') })} segmentation`;
}

function runNote(run: RunInfo): string {
  const uses = '`segment=N`, the buttons, digests and exports';
  if (run.role === 'default')
    return `${capitalise(segmentationName(run.createdAt))}, the default: ${uses} use these numbers`;
  if (run.role === 'saved') return `Saved as the default: ${uses} now use ${segmentationName(run.createdAt)}`;
  const current =
    run.defaultCreatedAt === null
      ? 'the default segmentation (made when first needed)'
      : `${segmentationName(run.defaultCreatedAt)} (the default)`;
  const save = run.saveCommand ? `; to make this one the default: \`${run.saveCommand}\`` : '';
  return `An ad-hoc segmentation: ${uses} keep using ${current}${save}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function qualityNotes(
  result: SegmentResult,
  view: { page: number; pages: number; cached: boolean },
): string[] {
  // With no variation in the input there is no quality to report: a "Silhouette 0.00" would read as a finding.
  const quality = result.degenerate
    ? 'No quality figures: the features do not vary'
    : `Silhouette ${result.quality.silhouette.toFixed(2)} · between/total variance ${formatPercent(
        result.quality.betweenOverTotal,
      )}`;
  const notes = [quality, `features: ${result.features.map(escapeMrkdwn).join(', ')} (${result.scaling})`];
  if (result.kScores) {
    const range = `${result.kScores[0]?.k}–${result.kScores.at(-1)?.k}`;
    notes.push(
      `k=${result.k} chosen by silhouette over ${range} (the fewest within ${SEGMENT_DEFAULTS.autoTolerance} of the best)`,
    );
  }
  if (result.sampled) {
    notes.push(
      `fitted on a sample of ${formatCompact(result.sampled.fitted)}; all ${formatCompact(result.sampled.total)} assigned`,
    );
  }
  const imputed = Object.entries(result.imputed).filter(([, n]) => n > 0);
  if (imputed.length > 0) {
    notes.push(
      `missing values filled with the median: ${imputed.map(([f, n]) => `${escapeMrkdwn(f)} for ${formatCount(n, 'person', 'people')}`).join(', ')}`,
    );
  }
  if (view.pages > 1) notes.push(`page ${view.page} of ${view.pages}`);
  if (view.cached) notes.push('unchanged data: segments reused');
  return notes;
}

/**
 * The machine-readable part of a segmentation (no per-person labels); small segments are flagged, and for a
 * channel their figures are null.
 */
export function summarize(
  result: SegmentResult,
  rule: CohortRule = { audience: 'private', minCohortSize: 10 },
) {
  return {
    k: result.k,
    profiles: result.total,
    features: result.features,
    scaling: result.scaling,
    // No variation, no quality: null rather than a silhouette of 0 that reads as a finding.
    quality: result.degenerate ? null : result.quality,
    ...(result.warnings ? { warnings: result.warnings } : {}),
    kScores: result.kScores ?? null,
    sampled: result.sampled,
    imputed: result.imputed,
    segments: result.segments.map((s) => {
      const hidden = hides(s.size, rule);
      return {
        segment: s.index + 1,
        name: s.name,
        size: hidden ? null : s.size,
        share: hidden ? null : s.share,
        revenueShare: hidden ? null : s.revenueShare,
        traits: hidden ? [] : s.traits.map((t) => t.text),
        small: isSmallCohort(s.size, rule.minCohortSize),
      };
    }),
  };
}
