/**
 * Block Kit primitives that cannot exceed Slack's documented limits: every builder in src/blocks goes
 * through these, so no input, however long, yields a payload Slack would reject or render broken.
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  ModalView,
  MrkdwnElement,
  PlainTextOption,
  SectionBlock,
} from '@slack/types';

/** Slack's documented Block Kit limits. */
export const LIMITS = {
  messageBlocks: 50,
  surfaceBlocks: 100,
  sectionText: 3000,
  fieldCount: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  fallbackText: 4000,
} as const;

/**
 * Escapes text from data (names, ids, filters, what a person typed) for a mrkdwn field: the three control
 * characters become entities, so it cannot mention or link, and `* _ ~` at a word's edge (a backtick anywhere)
 * are fenced with zero-width spaces, so a product named `*bold* Cape` reads as typed instead of bold. Slack has no escape for
 * formatting characters; the fence makes one side of each marker fail Slack's rule (a marker opens after a
 * boundary and before a non-space), whichever way the zero-width space is read. Inside words (`spend_next_30d`)
 * nothing formats, so nothing is added and copied text stays as it was.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(FORMATTING_AT_EDGE, (marker) => `${FENCE}${marker}${FENCE}`);
}

/** The zero-width space that fences formatting characters from data (plain-text.ts removes it again). */
export const FENCE = '\u200b';

// A formatting character with no letter or digit on at least one side, where Slack could read it as a marker;
// a backtick anywhere, since code spans open inside words too.
const FORMATTING_AT_EDGE = /`|(?<![\p{L}\p{N}])[*_~]|[*_~](?![\p{L}\p{N}])/gu;

/** Cuts text to `max` characters with an ellipsis, never splitting a surrogate pair or an escape entity. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  // A cut inside "&amp;" would leave a dangling "&am" that Slack renders literally.
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && amp > cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Keeps the first `max` items and appends one summary item produced by `more(n)` for the rest. */
export function capList<T>(items: readonly T[], max: number, more: (hidden: number) => T): T[] {
  if (items.length <= max) return [...items];
  const kept = items.slice(0, Math.max(0, max - 1));
  return [...kept, more(items.length - kept.length)];
}

/** A header block (plain text, 150 characters at most). */
export function header(text: string): HeaderBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncate(text, LIMITS.headerText), emoji: true },
  };
}

/** A section of mrkdwn text that the caller has already escaped where needed. */
export function section(mrkdwn: string, accessory?: Button): SectionBlock {
  const block: SectionBlock = {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(mrkdwn, LIMITS.sectionText) },
  };
  if (accessory) block.accessory = accessory;
  return block;
}

/** A two-column section of at most 10 fields; extra fields collapse into a final "…and N more". */
export function fields(items: readonly string[], intro?: string): SectionBlock {
  const capped = capList(items, LIMITS.fieldCount, (n) => `…and ${n} more`);
  const block: SectionBlock = {
    type: 'section',
    fields: capped.map((t) => ({ type: 'mrkdwn', text: truncate(t, LIMITS.fieldText) })),
  };
  if (intro) block.text = { type: 'mrkdwn', text: truncate(intro, LIMITS.sectionText) };
  return block;
}

/** A context block of at most 10 small mrkdwn elements. */
export function context(items: readonly string[]): ContextBlock {
  const capped = capList(items, LIMITS.contextElements, (n) => `…and ${n} more`);
  return {
    type: 'context',
    elements: capped.map((t): MrkdwnElement => ({ type: 'mrkdwn', text: truncate(t, LIMITS.sectionText) })),
  };
}

/** A divider. */
export function divider(): DividerBlock {
  return { type: 'divider' };
}

/** A button whose label, action id and value are kept inside Slack's limits. */
export function button(
  label: string,
  actionId: string,
  value?: string,
  style?: 'primary' | 'danger',
): Button {
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text: truncate(label, LIMITS.buttonText), emoji: true },
    action_id: truncate(actionId, LIMITS.actionId),
  };
  if (value !== undefined) b.value = truncate(value, LIMITS.buttonValue);
  if (style) b.style = style;
  return b;
}

/** An actions block of at most 25 buttons (the rest are dropped with a logged count by the caller's design). */
export function actions(buttons: readonly Button[], blockId?: string): ActionsBlock {
  const block: ActionsBlock = { type: 'actions', elements: buttons.slice(0, LIMITS.actionsElements) };
  if (blockId) block.block_id = truncate(blockId, LIMITS.blockId);
  return block;
}

/** Caps a block list for a message (50) or a surface such as App Home (100), noting what was left out. */
export function capBlocks(blocks: readonly KnownBlock[], max: number = LIMITS.messageBlocks): KnownBlock[] {
  if (blocks.length <= max) return [...blocks];
  const kept = blocks.slice(0, max - 1);
  return [...kept, context([`…and ${blocks.length - kept.length} more blocks not shown`])];
}

/** Keeps fallback text (shown in notifications and screen readers) inside Slack's practical limit. */
export function fallbackText(text: string): string {
  return truncate(text, LIMITS.fallbackText);
}

/** One option of a select or a set of checkboxes. */
export function plainOption(text: string, value: string): PlainTextOption {
  return { text: { type: 'plain_text', text, emoji: true }, value };
}

/** A modal with a Cancel button; private metadata is cut to the 3,000 characters Slack returns. */
export function modalView(spec: {
  callbackId: string;
  title: string;
  submit: string;
  privateMetadata: string;
  blocks: KnownBlock[];
}): ModalView {
  return {
    type: 'modal',
    callback_id: spec.callbackId,
    title: { type: 'plain_text', text: spec.title },
    submit: { type: 'plain_text', text: spec.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: spec.privateMetadata.slice(0, 3000),
    blocks: spec.blocks,
  };
}
