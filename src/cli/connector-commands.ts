/**
 * `audience connect <platform>`, `audience connections`, `audience sync [name] [--dry-run]` and
 * `audience disconnect <name>`: platform connectors from the command line (src/connectors/). Tokens come from
 * --token or, better (no shell history, no process list), --token-file; they are checked with the platform,
 * sealed with DATA_ENCRYPTION_KEY and never printed. The CLI acts as the local operator (owner `cli`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../domain/errors.ts';
import type { CliContext } from './context.ts';
import { parseWholeNumber } from './options.ts';
import { CLI_ACTOR } from './privacy-commands.ts';

const out = (text: string) => process.stdout.write(`${text}\n`);

interface ConnectCliOptions {
  name?: string;
  token?: string;
  tokenFile?: string;
  apiKey?: string;
  pageToken?: string;
  igUser?: string;
  page?: string;
  channel?: string;
  shop?: string;
  setting?: string[];
  baseUrl?: string;
  every: number;
  check: boolean;
}

/** Registers the connector commands. */
export function registerConnectorCommands(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('connect')
    .description(
      'Connect a platform account (instagram, youtube, shopify): its token is checked, then stored encrypted.',
    )
    // Optional: `audience connect` alone (the help's example, as in Slack) explains how to connect.
    .argument('[platform]', 'instagram | youtube | shopify')
    .option('--name <name>', 'the connection name (default: the platform)')
    .option('--token <token>', 'the access token (prefer --token-file)')
    .option('--token-file <file>', 'read the access token from a file')
    .option('--api-key <key>', 'youtube: an API key instead of a token (public data only)')
    .option('--page-token <token>', 'instagram: a Page access token (Page comments carry their authors)')
    .option('--ig-user <id>', 'instagram: the Instagram professional account id')
    .option('--page <id>', 'instagram: the Facebook Page id')
    .option('--channel <id>', 'youtube: the channel id')
    .option('--shop <domain>', 'shopify: the shop domain, e.g. demo.myshopify.com')
    .option('--setting <key=value...>', 'any other connector setting (repeatable)')
    .option('--base-url <url>', 'the API root (a local stand-in); default the platform’s API')
    .option('--every <minutes>', 'minutes between scheduled syncs (0: only when asked)', parseWholeNumber, 60)
    .option('--no-check', 'store without checking the token with the platform')
    .action(async (platform: string | undefined, opts: ConnectCliOptions, command: Command) => {
      if (platform === undefined) return command.outputHelp();
      out(await connectCommand(ctx, platform, opts));
    });
  program
    .command('connections')
    .description('List platform connections: last sync, rows added, next run, last error.')
    .action(async () => {
      const { describeConnections } = await import('../connectors/service.ts');
      const { listConnections } = await import('../connectors/connections.ts');
      out(describeConnections(await listConnections(await ctx.store())));
    });
  program
    .command('sync')
    .description('Sync one connection (or all of them) now, from where the last sync stopped.')
    .argument('[name]', 'the connection (default: every connection)')
    .option('--dry-run', 'read everything and count what would change; write nothing', false)
    .action(async (name: string | undefined, opts: { dryRun: boolean }) => {
      const code = await syncCommand(ctx, name, opts.dryRun);
      if (code !== 0) setExitCode(code);
    });
  program
    .command('disconnect')
    .description(
      'Remove a connection and its stored token (the synced audience stays; use forget for people).',
    )
    .argument('<name>', 'the connection')
    .action(async (name: string) => {
      const { disconnect } = await import('../connectors/connections.ts');
      const removed = await disconnect(await ctx.store(), name, CLI_ACTOR, ctx.clock().getTime());
      if (!removed) throw new UsageError(`there is no connection named "${name}" (see audience connections)`);
      out(`Removed connection "${name}" and its token.`);
    });
}

/** The settings and credentials of `audience connect` from its options, for the platform's registry entry. */
async function fieldsFrom(opts: ConnectCliOptions) {
  const settings: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    if (value !== undefined) settings[key] = value;
  };
  put('igUserId', opts.igUser);
  put('pageId', opts.page);
  put('channelId', opts.channel);
  put('shop', opts.shop);
  for (const pair of opts.setting ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new UsageError(`--setting ${pair}: write it as key=value, e.g. --setting lookbackDays=7`);
    settings[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (opts.token !== undefined && opts.tokenFile !== undefined) {
    throw new UsageError('pass the token once: --token or --token-file, not both');
  }
  const token = opts.tokenFile === undefined ? opts.token : (await readTokenFile(opts.tokenFile)).trim();
  const credentials: Record<string, string> = {};
  if (token !== undefined) credentials.accessToken = token;
  if (opts.pageToken !== undefined) credentials.pageAccessToken = opts.pageToken;
  if (opts.apiKey !== undefined) credentials.apiKey = opts.apiKey;
  return { settings, credentials };
}

async function readTokenFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--token-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}; pass a file holding the token`,
    );
  }
}

async function connectCommand(ctx: CliContext, platform: string, opts: ConnectCliOptions): Promise<string> {
  const { CONNECTORS } = await import('../connectors/registry.ts');
  const { isConnectorKind } = await import('../connectors/connector.ts');
  if (!isConnectorKind(platform))
    throw new UsageError(`unknown platform "${platform}": use instagram, youtube or shopify`);
  const entry = CONNECTORS[platform];
  if (entry === undefined) throw new UsageError(`the ${platform} connector is not in this build yet`);
  const { connect } = await import('../connectors/connections.ts');
  const { connectorDeps } = await import('../connectors/service.ts');
  const { settings, credentials } = await fieldsFrom(opts);
  const deps = connectorDeps({ store: await ctx.store(), config: ctx.config, clock: ctx.clock });
  const { view, account, reconnected } = await connect(deps, {
    kind: platform,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    owner: CLI_ACTOR,
    settings,
    credentials,
    baseUrl: opts.baseUrl ?? null,
    intervalMinutes: opts.every,
    check: opts.check,
  });
  const who =
    account === null
      ? 'token not checked'
      : `account ${account.accountName}, granted: ${account.scopes.join(', ') || 'nothing'}`;
  const missing =
    account === null || !entry.reportsScopes
      ? []
      : entry.permissions.filter((p) => !account.scopes.includes(p));
  const lines = [
    `${reconnected ? 'Reconnected' : 'Connected'} ${platform} as "${view.id}" (${who}); the token is stored encrypted.`,
    view.interval_minutes > 0
      ? `It syncs every ${view.interval_minutes} minutes while the app runs; sync now with: audience sync ${view.id}`
      : `It syncs only when asked: audience sync ${view.id}`,
  ];
  if (missing.length > 0) lines.push(`Not granted (some data will be missing): ${missing.join(', ')}`);
  return lines.join('\n');
}

async function syncCommand(ctx: CliContext, name: string | undefined, dryRun: boolean): Promise<number> {
  const { syncConnection } = await import('../connectors/sync.ts');
  const { connectorDeps, describeOutcome } = await import('../connectors/service.ts');
  const store = await ctx.store();
  const names = name === undefined ? (await store.connections.list()).map((c) => c.id) : [name];
  if (names.length === 0) {
    out('No platform is connected. Connect one with `audience connect instagram|youtube|shopify …`.');
    return 0;
  }
  const deps = connectorDeps({
    store,
    config: ctx.config,
    clock: ctx.clock,
    notify: async (_record, message) => {
      out(message);
    },
  });
  let code = 0;
  for (const id of names) {
    const outcome = await syncConnection(deps, id, { dryRun, actor: CLI_ACTOR });
    out(describeOutcome(outcome));
    const foreign = outcome.currencies.filter((c) => c !== ctx.config.currency);
    if (foreign.length > 0) {
      out(
        `  note: amounts are in ${foreign.join(', ')} and stored as given; replies show them as ${ctx.config.currency} (set CURRENCY=${foreign[0]} if the shop is your main source of revenue)`,
      );
    }
    if (outcome.status === 'failed' || outcome.status === 'paused') code = 1;
  }
  return code;
}
