import type { Button, KnownBlock } from '@slack/types';
import type { Reply } from '../domain/reply.ts';
import { PAGE_COMMAND_PREFIX, RUN_COMMAND_PREFIX } from './command-buttons.ts';
import { FENCE } from './kit.ts';

/**
 * Renders a Block Kit reply as terminal text for the local console and the CLI: header underlined,
 * fields in two columns, context dimmed with a bullet, buttons as `[Label]` (or the command a button runs).
 * Pure, so both front doors print exactly the same thing for the same reply.
 */
export function renderText(reply: Reply, width = 100): string {
  if (reply.blocks.length === 0) return plain(reply.text);
  const out: string[] = [];
  for (const block of reply.blocks) {
    const rendered = renderBlock(block, width);
    if (rendered !== null) out.push(rendered);
  }
  return out.join('\n');
}

function renderBlock(block: KnownBlock, width: number): string | null {
  switch (block.type) {
    case 'header': {
      const title = block.text.text;
      return `${title}\n${'═'.repeat(Math.min(width, [...title].length))}`;
    }
    case 'section': {
      const parts: string[] = [];
      if (block.text) parts.push(plain(block.text.text));
      if (block.fields)
        parts.push(
          columns(
            block.fields.map((f) => plain(f.text)),
            width,
          ),
        );
      if (block.accessory && block.accessory.type === 'button') parts.push(buttonText(block.accessory));
      return parts.join('\n');
    }
    case 'context':
      return `  · ${block.elements.map((e) => ('text' in e ? plain(e.text) : (e.alt_text ?? ''))).join(' · ')}`;
    case 'divider':
      return '─'.repeat(Math.min(width, 40));
    case 'actions': {
      const items = block.elements.map((e) =>
        e.type === 'button' ? buttonText(e) : 'text' in e && e.text ? `[${e.text.text}]` : `[${e.type}]`,
      );
      // Commands to type read one per line; plain [Labels] stay side by side like buttons.
      return items.join(items.some((i) => !i.startsWith('[')) ? '\n' : ' ');
    }
    case 'image':
      return `[image: ${block.alt_text}]`;
    default:
      return null;
  }
}

// Nothing can be pressed in a terminal: a button that runs a command shows the command to type instead.
function buttonText(b: Button): string {
  const id = b.action_id ?? '';
  const runs = id.startsWith(RUN_COMMAND_PREFIX) || id.startsWith(PAGE_COMMAND_PREFIX);
  return runs && b.value ? `${b.text.text}: /audience ${b.value}` : `[${b.text.text}]`;
}

// Each field is "label\nvalue"; lay two fields side by side like Slack's two-column section. A pair whose left
// field is too wide for its column is stacked instead, so the right field never runs into the left one's text.
function columns(cells: string[], width: number): string {
  const half = Math.floor(width / 2);
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += 2) {
    const left = (cells[i] ?? '').split('\n');
    const right = (cells[i + 1] ?? '').split('\n');
    if (left.some((l) => [...l].length > half - 2)) {
      lines.push(...left, ...(cells[i + 1] === undefined ? [] : right));
      if (i + 2 < cells.length) lines.push('');
      continue;
    }
    const rows = Math.max(left.length, right.length);
    for (let r = 0; r < rows; r++) {
      const l = left[r] ?? '';
      const rt = right[r] ?? '';
      lines.push(rt ? `${l.padEnd(half)}${rt}`.trimEnd() : l);
    }
    if (i + 2 < cells.length) lines.push('');
  }
  return lines.join('\n');
}

// The few emoji codes our builders use, so the console shows a symbol rather than the code.
const EMOJI = new Map<string, string>([
  ['warning', '⚠'],
  ['white_check_mark', '✅'],
  ['x', '❌'],
  ['hourglass_flowing_sand', '⏳'],
  ['hourglass', '⌛'],
  ['information_source', 'ℹ'],
  ['bar_chart', '📊'],
  ['lock', '🔒'],
  ['pause_button', '⏸'],
  ['double_vertical_bar', '⏸'],
  ['arrow_forward', '▶'],
  ['wastebasket', '🗑'],
  ['no_entry_sign', '🚫'],
]);

/** Turns Slack mrkdwn into readable plain text: drops emphasis markers, unescapes entities, shows links. */
export function plain(mrkdwn: string): string {
  return unfence(
    fence(mrkdwn)
      .replace(/<#([CGD][A-Z0-9]+)\|([^>]*)>/g, (_m, id: string, name: string) => `#${name || id}`)
      .replace(/<#([CGD][A-Z0-9]+)>/g, '#$1')
      .replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, '@$1')
      .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
      .replace(/<(https?:[^>]+)>/g, '$1')
      .replace(/:([a-z_]+):/g, (match, name: string) => EMOJI.get(name) ?? match)
      .replace(/`([^`\n]+)`/g, '$1')
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/gm, '$1$2')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  );
}

// Formatting characters fenced by escapeMrkdwn are data, not markers: kept out of the emphasis rules above as
// private-use stand-ins, then given back as typed.
const FENCED = new RegExp(`${FENCE}([*_~\`])${FENCE}`, 'g');
const STAND_INS: Record<string, string> = { '*': '\ue000', _: '\ue001', '~': '\ue002', '`': '\ue003' };
const ORIGINALS: Record<string, string> = Object.fromEntries(
  Object.entries(STAND_INS).map(([k, v]) => [v, k]),
);

function fence(text: string): string {
  return text.replace(FENCED, (_m, marker: string) => STAND_INS[marker] ?? marker);
}

function unfence(text: string): string {
  return text.replace(/[\ue000-\ue003]/g, (c) => ORIGINALS[c] ?? c).replaceAll(FENCE, '');
}
