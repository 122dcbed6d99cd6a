/**
 * The `/audience` subcommands on the command line: each is a commander subcommand whose words go through the
 * same router as Slack and the console, so the CLI answers exactly as they do. `--format` picks how the reply
 * is printed (text, json, blocks) for every one of them; a file format is a word, `format=csv|json`, as in Slack.
 */
import { type Command, Option } from 'commander';
import type { Router } from '../../commands/router.ts';
import { renderText } from '../blocks/plain-text.ts';
import { configSecrets } from '../config.ts';
import type { Reply } from '../domain/reply.ts';
import { createLogger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { type CliContext, deferredStore } from './context.ts';

/** The reply formats of `--format`, as documented in the README. */
export const OUTPUT_FORMATS = ['text', 'json', 'blocks'] as const;
/** One of OUTPUT_FORMATS. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Prints a reply as readable text, the machine-readable result, or the exact Slack payload. */
export function formatReply(reply: Reply, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(reply.data ?? { text: reply.text }, null, 2);
  if (format === 'blocks') return JSON.stringify({ text: reply.text, blocks: reply.blocks }, null, 2);
  return renderText(reply);
}

/** `--format text|json|blocks`. */
export function formatOption(): Option {
  return new Option('--format <format>', 'reply format').choices(OUTPUT_FORMATS).default('text');
}

/** The router with every subcommand over a store the CLI opens only for commands that read data. */
export interface RoutedCommands {
  router: Router;
  /** Runs one line through the router and prints the reply; returns the process exit code. */
  route(words: string[], format: OutputFormat, out?: string): Promise<number>;
}

/** Loads the router and its subcommands (the engine, blocks and queries behind them load with it). */
export async function loadRoutedCommands(ctx: CliContext): Promise<RoutedCommands> {
  const { registerCommands } = await import('../../commands/index.ts');
  const { config, clock } = ctx;
  const logger = createLogger(config.logLevel, undefined, { secrets: configSecrets(config) });
  let opened: Store | null = null;
  const router = registerCommands({ store: deferredStore(() => opened), clock, config }, (error, context) =>
    logger.error('command failed', { error, text: context.text }),
  );
  const route = async (words: string[], format: OutputFormat, out?: string): Promise<number> => {
    if (readsData(router, words)) {
      opened = await ctx.store();
      const { ensureAudience } = await import('../sample/load.ts');
      const notice = await ensureAudience(opened, { ...config.sample, now: clock() });
      if (notice) process.stderr.write(`${notice}\n`);
    }
    const reply = await router.dispatch(words.map(quoteIfNeeded).join(' '), {
      userId: 'cli',
      channelId: null,
      surface: 'cli',
    });
    process.stdout.write(`${formatReply(reply, format)}\n`);
    if (reply.files?.length) {
      const { saveReplyFiles } = await import('../export/save-files.ts');
      for (const path of await saveReplyFiles(reply.files, out)) process.stderr.write(`Saved ${path}\n`);
    }
    return reply.data && typeof reply.data === 'object' && 'error' in reply.data ? 2 : 0;
  };
  return { router, route };
}

/**
 * Help and an unknown or missing subcommand are answered from the command list alone; everything else reads
 * the audience (and loads the sample into an empty store first, as the app does).
 */
function readsData(router: Router, words: readonly string[]): boolean {
  const name = words[0]?.toLowerCase();
  return name !== undefined && name !== 'help' && router.find(name) !== undefined;
}

/** Adds each routed subcommand to the program, and a catch-all that lets the router answer anything else. */
export function registerRoutedCommands(
  program: Command,
  routed: RoutedCommands,
  setExitCode: (code: number) => void,
): void {
  const CLI_OWN = new Set(['import', 'connect', 'connections']);
  const run = async (words: string[], opts: { format: OutputFormat; out?: string }) =>
    setExitCode(await routed.route(words, opts.format, opts.out));
  // Listing the router's own subcommands keeps the CLI identical to /audience in Slack and the console.
  for (const command of routed.router.commands) {
    // The CLI's own `import` reads the files, its own `connect` / `connections` take the platform's flags: the
    // routed ones only explain that to Slack users.
    if (CLI_OWN.has(command.name)) continue;
    program
      .command(command.name)
      .description(command.summary)
      .argument('[args...]', 'positional words and key=value options, as after /audience')
      .option('--out <path>', 'where to write files that come with the reply (exports, charts)')
      .addOption(formatOption())
      .action((args: string[], opts: { format: OutputFormat; out?: string }) =>
        run([command.name, ...args], opts),
      );
  }
  // Anything else also goes to the router, which answers with the closest subcommand and the help.
  program
    .argument('[words...]')
    .addOption(formatOption())
    .action((words: string[], opts: { format: OutputFormat }) => run(words, opts));
}

// Words that contained spaces were quoted by the shell; quote them again for the router's tokenizer.
function quoteIfNeeded(word: string): string {
  if (!/\s/.test(word)) return word;
  const eq = word.indexOf('=');
  return eq > 0 ? `${word.slice(0, eq + 1)}"${word.slice(eq + 1)}"` : `"${word}"`;
}
