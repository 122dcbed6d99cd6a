/**
 * The "New audience digest" modal opened by `/audience digest` in Slack. Pure. Block ids are the field
 * names of validateScheduleForm (src/digest/validate.ts), so its errors land on the right field.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { ScheduleFormValues } from '../domain/digest.ts';
import { WEEKDAY_NAMES } from '../domain/zoned-time.ts';
import { K_RANGE } from '../engine/segment-defaults.ts';
import { truncate } from './kit.ts';

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

const option = (text: string, value: string): PlainTextOption => ({
  text: { type: 'plain_text', text, emoji: true },
  value,
});

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
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: 'channel',
      label: { type: 'plain_text', text: 'Channel' },
      element: {
        type: 'conversations_select',
        action_id: DIGEST_FIELD_ACTION,
        ...(defaults.channelId && /^[CG][A-Z0-9]+$/.test(defaults.channelId)
          ? { initial_conversation: defaults.channelId }
          : { default_to_current_conversation: true }),
        filter: { include: ['public', 'private'], exclude_bot_users: true },
        placeholder: { type: 'plain_text', text: 'Where the digest is posted' },
      },
    },
    {
      type: 'input',
      block_id: 'cadence',
      label: { type: 'plain_text', text: 'How often' },
      element: {
        type: 'static_select',
        action_id: DIGEST_FIELD_ACTION,
        options: CADENCE_OPTIONS,
        initial_option: CADENCE_OPTIONS[0],
      },
    },
    {
      type: 'input',
      block_id: 'weekdays',
      optional: true,
      label: { type: 'plain_text', text: 'On' },
      hint: {
        type: 'plain_text',
        text: 'Weekly: every chosen day. Monthly: the first of one chosen day. Daily: ignored.',
      },
      element: {
        type: 'checkboxes',
        action_id: DIGEST_FIELD_ACTION,
        options: WEEKDAY_OPTIONS,
        initial_options: [WEEKDAY_OPTIONS[0] as PlainTextOption],
      },
    },
    {
      type: 'input',
      block_id: 'time',
      label: { type: 'plain_text', text: 'Local time' },
      element: { type: 'timepicker', action_id: DIGEST_FIELD_ACTION, initial_time: '09:00' },
    },
    {
      type: 'input',
      block_id: 'zone',
      label: { type: 'plain_text', text: 'Time zone' },
      hint: {
        type: 'plain_text',
        text: 'An IANA name such as Europe/Berlin or America/New_York. Defaults to yours.',
      },
      element: {
        type: 'plain_text_input',
        action_id: DIGEST_FIELD_ACTION,
        initial_value: truncate(defaults.timeZone, 60),
        max_length: 64,
      },
    },
    {
      type: 'input',
      block_id: 'content',
      optional: true,
      label: { type: 'plain_text', text: 'Include' },
      element: {
        type: 'checkboxes',
        action_id: DIGEST_FIELD_ACTION,
        options: CONTENT_OPTIONS,
        initial_options: CONTENT_OPTIONS,
      },
    },
    {
      type: 'input',
      block_id: 'k',
      label: { type: 'plain_text', text: 'Number of segments' },
      element: {
        type: 'static_select',
        action_id: DIGEST_FIELD_ACTION,
        options: K_OPTIONS,
        initial_option: K_OPTIONS[0],
      },
    },
  ];
  return {
    type: 'modal',
    callback_id: DIGEST_MODAL_CALLBACK,
    title: { type: 'plain_text', text: 'New audience digest' },
    submit: { type: 'plain_text', text: 'Create' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: defaults.privateMetadata.slice(0, 3000),
    blocks,
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
