import type { Reply } from '../domain/reply.ts';
import { capList, escapeMrkdwn, fallbackText, section, truncate } from './kit.ts';

/**
 * The direct message for a form whose check came back after Slack's 3-second deadline: Slack had already
 * closed the form, so the person never saw what was wrong, and nothing was saved.
 */
export function buildLateFormNotice(errors: Readonly<Record<string, string>>): Reply {
  const problems = capList(
    Object.values(errors).map((e) => `• ${escapeMrkdwn(truncate(e, 300))}`),
    10,
    (hidden) => `• …and ${hidden} more`,
  );
  const message = [
    ':warning: The form you just sent closed before it could be checked, and it had problems, so nothing was saved:',
    ...problems,
    'Open it again with `/audience digest` (or use `/audience digest add …`).',
  ].join('\n');
  return { text: fallbackText(message), blocks: [section(message)], data: { perPerson: true } };
}
