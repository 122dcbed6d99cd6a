import type { Reply } from '../domain/reply.ts';
import { fallbackText, section } from './kit.ts';

/**
 * A refusal reply (not an admin, not in this channel). The text is mrkdwn built only from our own words and
 * configured Slack ids (validated in config.ts), so mentions like <@U012AB3CD> render. `data.error` keeps it
 * out of the Share flow.
 */
export function buildRefusal(text: string): Reply {
  return { text: fallbackText(text), blocks: [section(`:no_entry_sign: ${text}`)], data: { error: text } };
}
