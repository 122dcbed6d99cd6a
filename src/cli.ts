import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerCommands } from '../commands/index.ts';
import { type AppConfig, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import type { Clock } from './model/types.ts';
import { renderText } from './render/text.ts';
import type { Reply } from './router/types.ts';
import { ensureAudience, loadSample } from './sample/load.ts';
import { openStore, type Store, StoreError } from './store/store.ts';

const OUTPUT_FORMATS = ['text', 'json', 'blocks'] as const;

/** Prints a reply as readable text, the machine-readable result, or the exact Slack payload. */
export function formatReply(reply: Reply, format: (typeof OUTPUT_FORMATS)[number]): string {
  if (format === 'json') return JSON.stringify(reply.data ?? { text: reply.text }, null, 2);
  if (format === 'blocks') return JSON.stringify({ text: reply.text, blocks: reply.blocks }, null, 2);
  return renderText(reply);
}

/** Builds the `audience` program over an open store; routed subcommands come from the router's registry. */
export function buildProgram(config: AppConfig, store: Store, clock: Clock): Command {
  const logger = createLogger(config.logLevel);
  const router = registerCommands({ store, clock, config }, (error, ctx) =>
    logger.error('command failed', { error, text: ctx.text }),
  );
  const program = new Command('audience')
    .description('Audience Insights: segments, predictions, recommendations and stats for your audience.')
    .showSuggestionAfterError(true)
    .exitOverride();

  // Listing the router's own subcommands keeps the CLI identical to /audience in Slack and the console.
  for (const command of router.commands) {
    program
      .command(command.name)
      .description(command.summary)
      .argument('[args...]', 'positional words and key=value options, as after /audience')
      .addOption(new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('text'))
      .action(async (args: string[], opts: { format: (typeof OUTPUT_FORMATS)[number] }) => {
        const notice = await ensureAudience(store, { ...config.sample, now: clock() });
        if (notice) process.stderr.write(`${notice}\n`);
        const line = [command.name, ...args.map(quoteIfNeeded)].join(' ');
        const reply = await router.dispatch(line, { userId: 'cli', channelId: null, surface: 'cli' });
        process.stdout.write(`${formatReply(reply, opts.format)}\n`);
        if (reply.data && typeof reply.data === 'object' && 'error' in reply.data) process.exitCode = 2;
      });
  }

  program
    .command('sample')
    .description('Replace the audience with a generated sample (personas, products, 26 weeks of activity).')
    .option('--profiles <n>', 'number of profiles', parseWholeNumber, config.sample.profiles)
    .option('--seed <n>', 'random seed', parseWholeNumber, config.sample.seed)
    .action(async (opts: { profiles: number; seed: number }) => {
      const loaded = await loadSample(store, { ...opts, now: clock() });
      process.stdout.write(
        `Loaded the sample audience (seed ${opts.seed}): ${loaded.profiles} profiles, ${loaded.products} products, ` +
          `${loaded.interactions} interactions ending ${loaded.end.toISOString()}, into ${store.file}\n`,
      );
    });

  return program;
}

// Words that contained spaces were quoted by the shell; quote them again for the router's tokenizer.
function quoteIfNeeded(word: string): string {
  if (!/\s/.test(word)) return word;
  const eq = word.indexOf('=');
  return eq > 0 ? `${word.slice(0, eq + 1)}"${word.slice(eq + 1)}"` : `"${word}"`;
}

function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number.');
  return n;
}

/** Runs one `audience …` invocation and returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let store: Store | null = null;
  try {
    const config = loadConfig();
    store = await openStore({ file: config.dataFile, flushDelayMs: config.flushDelayMs });
    const fixed = config.fixedNow;
    const clock: Clock = fixed ? () => new Date(fixed) : () => new Date();
    await buildProgram(config, store, clock).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ConfigError || error instanceof StoreError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
}
