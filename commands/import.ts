import { context, escapeMrkdwn, fallbackText, section } from '../src/blocks/kit.ts';
import type { Subcommand } from '../src/domain/reply.ts';

/**
 * `/audience import` (admins only): imports read export files on the server, so in Slack this explains how to
 * run one with the CLI (where identifiers are pseudonymized on the way in). Non-admins are refused before
 * this runs (privacy/roles.ts), so the command doubles as the documented permission check.
 */
export function createImportCommand(): Subcommand {
  return {
    name: 'import',
    summary: 'How to import profiles, products or interactions (admins only; runs on the server).',
    usage: '/audience import',
    examples: ['/audience import'],
    async run() {
      const how =
        'Imports read your export files on the server: run `audience import profiles FILE` (then `products`, ' +
        '`interactions`) with the CLI. Handles, e-mail addresses, names and phone numbers are replaced by ' +
        'pseudonyms on the way in (`--pii-mode drop` removes them instead).';
      return {
        text: fallbackText(escapeMrkdwn(how)),
        blocks: [section(how), context(['See `audience import --help` for every option.'])],
        data: { perPerson: false },
      };
    },
  };
}
