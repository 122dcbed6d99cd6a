import { buildConnectionsMessage } from '../src/blocks/connections-message.ts';
import { context, escapeMrkdwn, fallbackText, section } from '../src/blocks/kit.ts';
import type { Subcommand } from '../src/domain/reply.ts';
import type { CommandDeps } from './deps.ts';
import { checkOptions } from './options.ts';

/**
 * `/audience connections`: each connected platform's state, last sync, rows added, next run and last error
 * (issue #15). Anyone may see it: it holds no personal data and never the token.
 */
export function createConnectionsCommand({ store }: Pick<CommandDeps, 'store'>): Subcommand {
  return {
    name: 'connections',
    summary:
      'Connected platforms (Instagram/Facebook, YouTube, Shopify): last sync, rows added, next run, last error.',
    usage: '/audience connections',
    examples: ['/audience connections'],
    async run(args) {
      checkOptions(args, 'connections', { options: [] });
      const records = await store.connections.list();
      const summaries = records.map(({ credentials: _sealed, ...rest }) => rest);
      return { ...buildConnectionsMessage(summaries), data: { perPerson: false } };
    },
  };
}

/**
 * `/audience connect` (admins only). In Slack the bare command opens a form before it reaches the router
 * (src/slack/listeners/commands/connect-form.ts); anywhere else this says how to connect from the server.
 */
export function createConnectCommand(): Subcommand {
  return {
    name: 'connect',
    summary: 'Connect a platform account so the audience stays fresh (admins only; opens a form in Slack).',
    usage: '/audience connect',
    examples: ['/audience connect'],
    async run() {
      const how =
        'In Slack, `/audience connect` opens a form for the platform, the account and its token. On the server: ' +
        '`audience connect instagram|youtube|shopify --token-file FILE …` (see `audience connect --help`). ' +
        'Tokens are checked with the platform, stored encrypted with the data key, and never shown again.';
      return {
        text: fallbackText(escapeMrkdwn(how)),
        blocks: [section(how), context(['`/audience connections` shows how each connection is doing.'])],
        data: { perPerson: false },
      };
    },
  };
}
