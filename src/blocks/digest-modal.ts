/**
 * The "New audience digest" modal opened by `/audience digest` in Slack. Pure. Block ids are the field
 * names of validateScheduleForm (src/digest/validate.ts), so its errors land on the right field.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { ScheduleFormValues } from '../domain/digest.ts';
import { WEEKDAY_NAMES } from '../domain/zoned-time.ts';
import { K_RANGE } from '../engine/segment-defaults.ts';
import { modalView, plainOption as option, truncate } from './kit.ts';

/** callback_id of the modal; the view-submission listener matches it. */
export const DIGEST_MODAL_CALLBACK = 'digest_create';
/** action_id of every input element in the modal. */
export const DIGEST_FIELD_ACTION = 'value';

/** What the modal starts with. */
export interface DigestModalDefaults {
  /** The channel the command was typed in, preselected. */
  channelId: string | null;
  /** The person's own time zone from their Slack profile (users.info), or UTC. */
  timeZone: string;
  /** Returned with the submission (at most 3,000 characters). */
  privateMetadata: string;
}

const CADENCE_OPTIONS = [
  option('Weekly', 'weekly'),
  option('Daily', 'daily'),
  option('Monthly (first chosen weekday)', 'monthly'),
];
const WEEKDAY_OPTIONS = WEEKDAY_NAMES.map((name, i) => option(name, String(i + 1)));
const CONTENT_OPTIONS = [
  option('Predicted revenue per segment', 'predictions'),
  option('Top recommended products per segment', 'recommendations'),
  option('Segment-sizes chart in the thread', 'chart'),
];
const K_OPTIONS = [
  option('Automatic', 'auto'),
  ...Array.from({ length: K_RANGE.max - K_RANGE.min + 1 }, (_, i) => String(K_RANGE.min + i)).map((k) =>
    option(k, k),
  ),
];

/** Builds the modal for `views.open`. */
export function buildDigestModal(defaults: DigestModalDefaults): ModalView {
  return modalView({
    callbackId: DIGEST_MODAL_CALLBACK,
    title: 'New audience digest',
    submit: 'Create',
    privateMetadata: defaults.privateMetadata,
    blocks: [
      channelInput(defaults.channelId),
      selectInput('cadence', 'How often', CADENCE_OPTIONS),
      checkboxInput('weekdays', 'On', WEEKDAY_OPTIONS, [WEEKDAY_OPTIONS[0] as PlainTextOption], {
        hint: 'Weekly: every chosen day. Monthly: the first of one chosen day. Daily: ignored.',
      }),
      {
        type: 'input',
        block_id: 'time',
        label: plain('Local time'),
        element: { type: 'timepicker', action_id: DIGEST_FIELD_ACTION, initial_time: '09:00' },
      },
      zoneInput(defaults.timeZone),
      checkboxInput('content', 'Include', CONTENT_OPTIONS, CONTENT_OPTIONS),
      selectInput('k', 'Number of segments', K_OPTIONS),
    ],
  });
}

function plain(text: string) {
  return { type: 'plain_text' as const, text };
}

/** The channel picker: the channel the command was typed in, else the current conversation. */
function channelInput(channelId: string | null): KnownBlock {
  return {
    type: 'input',
    block_id: 'channel',
    label: plain('Channel'),
    element: {
      type: 'conversations_select',
      action_id: DIGEST_FIELD_ACTION,
      ...(channelId && /^[CG][A-Z0-9]+$/.test(channelId)
        ? { initial_conversation: channelId }
        : { default_to_current_conversation: true }),
      filter: { include: ['public', 'private'], exclude_bot_users: true },
      placeholder: plain('Where the digest is posted'),
    },
  };
}

/** A single choice, starting at its first option. */
function selectInput(blockId: string, label: string, options: PlainTextOption[]): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    element: {
      type: 'static_select',
      action_id: DIGEST_FIELD_ACTION,
      options,
      initial_option: options[0],
    },
  };
}

/** An optional set of checkboxes. */
function checkboxInput(
  blockId: string,
  label: string,
  options: PlainTextOption[],
  initial: PlainTextOption[],
  extra: { hint?: string } = {},
): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: plain(label),
    ...(extra.hint ? { hint: plain(extra.hint) } : {}),
    element: {
      type: 'checkboxes',
      action_id: DIGEST_FIELD_ACTION,
      options,
      initial_options: initial,
    },
  };
}

/** The time zone as typed text, starting with the person's own. */
function zoneInput(timeZone: string): KnownBlock {
  return {
    type: 'input',
    block_id: 'zone',
    label: plain('Time zone'),
    hint: plain('An IANA name such as Europe/Berlin or America/New_York. Defaults to yours.'),
    element: {
      type: 'plain_text_input',
      action_id: DIGEST_FIELD_ACTION,
      initial_value: truncate(timeZone, 60),
      max_length: 64,
    },
  };
}

/** The submitted state of the modal (`view.state.values`), read into plain values. */
export function readDigestModal(values: Record<string, Record<string, unknown>>): ScheduleFormValues {
  const field = (block: string) => (values[block]?.[DIGEST_FIELD_ACTION] ?? {}) as Record<string, unknown>;
  const selected = (block: string): string | null => {
    const o = field(block).selected_option as { value?: unknown } | null | undefined;
    return typeof o?.value === 'string' ? o.value : null;
  };
  const many = (block: string): string[] => {
    const list = field(block).selected_options;
    return Array.isArray(list)
      ? list.map((o) => (o as { value?: unknown }).value).filter((v): v is string => typeof v === 'string')
      : [];
  };
  const text = (block: string, key: string): string | null => {
    const v = field(block)[key];
    return typeof v === 'string' ? v : null;
  };
  const weekdays = many('weekdays').map((d) => WEEKDAY_NAMES[Number(d) - 1]?.toLowerCase() ?? d);
  return {
    channel: text('channel', 'selected_conversation'),
    cadence: selected('cadence'),
    weekdays,
    time: text('time', 'selected_time'),
    zone: text('zone', 'value'),
    content: many('content'),
    k: selected('k'),
  };
}
