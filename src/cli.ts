import { Presets, SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerCommands } from '../commands/index.ts';
import { renderText } from './blocks/plain-text.ts';
import { type AppConfig, configSecrets, loadConfig } from './config.ts';
import { UserError } from './domain/errors.ts';
import type { Reply } from './domain/reply.ts';
import type { Clock } from './domain/types.ts';
import { evaluateRecommendations, formatEvaluation } from './engine/evaluate.ts';
import { saveReplyFiles } from './export/save-files.ts';
import {
  formatImportReport,
  ImportError,
  type ImportFormat,
  type ImportKind,
  importFile,
} from './import/importer.ts';
import { createLogger } from './logger.ts';
import {
  CLI_ACTOR,
  noPiiOption,
  piiModeOption,
  piiOption,
  piiOptionsFrom,
  registerPrivacyCommands,
  storeEncryption,
} from './privacy/cli.ts';
import type { PiiMode } from './privacy/pii.ts';
import { ensureAudience, loadSample } from './sample/load.ts';
import { openStore, type Store } from './store/store.ts';

const OUTPUT_FORMATS = ['text', 'json', 'blocks'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Prints a reply as readable text, the machine-readable result, or the exact Slack payload. */
export function formatReply(reply: Reply, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(reply.data ?? { text: reply.text }, null, 2);
  if (format === 'blocks') return JSON.stringify({ text: reply.text, blocks: reply.blocks }, null, 2);
  return renderText(reply);
}

/** Builds the `audience` program over an open store; routed subcommands come from the router's registry. */
export function buildProgram(config: AppConfig, store: Store, clock: Clock): Command {
  const logger = createLogger(config.logLevel, undefined, { secrets: configSecrets(config) });
  const router = registerCommands({ store, clock, config }, (error, ctx) =>
    logger.error('command failed', { error, text: ctx.text }),
  );
  const program = new Command('audience')
    .description('Audience Insights: segments, predictions, recommendations and stats for your audience.')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride();

  const formatOption = () =>
    new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('text');
  const route = async (words: string[], format: OutputFormat, out?: string) => {
    const notice = await ensureAudience(store, { ...config.sample, now: clock() });
    if (notice) process.stderr.write(`${notice}\n`);
    const reply = await router.dispatch(words.map(quoteIfNeeded).join(' '), {
      userId: 'cli',
      channelId: null,
      surface: 'cli',
    });
    process.stdout.write(`${formatReply(reply, format)}\n`);
    if (reply.files?.length) {
      for (const path of await saveReplyFiles(reply.files, out)) process.stderr.write(`Saved ${path}\n`);
    }
    if (reply.data && typeof reply.data === 'object' && 'error' in reply.data) process.exitCode = 2;
  };

  // Listing the router's own subcommands keeps the CLI identical to /audience in Slack and the console.
  for (const command of router.commands) {
    // The CLI's own `import` (below) reads the files; the routed one only explains that to Slack users.
    if (command.name === 'import') continue;
    const sub = program
      .command(command.name)
      .description(command.summary)
      .argument('[args...]', 'positional words and key=value options, as after /audience')
      .option('--out <path>', 'where to write files that come with the reply (exports, charts)');
    if (command.name === 'export') {
      // For exports, --format names the file format, as users of CSV tools expect.
      sub
        .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
        .action((args: string[], opts: { format: string; out?: string }) =>
          route([command.name, ...args, `format=${opts.format}`], 'text', opts.out),
        );
    } else {
      sub
        .addOption(formatOption())
        .action((args: string[], opts: { format: OutputFormat; out?: string }) =>
          route([command.name, ...args], opts.format, opts.out),
        );
    }
  }
  // Anything else also goes to the router, which answers with the closest subcommand and the help.
  program
    .argument('[words...]')
    .addOption(formatOption())
    .action((words: string[], opts: { format: OutputFormat }) => route(words, opts.format));

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

  program
    .command('evaluate')
    .description('Holdout evaluation of recommendations against a popularity baseline.')
    .argument('<what>', 'recommendations')
    .addOption(
      new Option('--method <method>', 'time split or hidden items').choices(['time', 'hide']).default('time'),
    )
    .option('--test-days <n>', 'days held out by the time split', parseWholeNumber, 30)
    .option('--hide <n>', 'purchases hidden per test user by the hide split', parseWholeNumber, 2)
    .option('--seed <n>', 'random seed of the hide split', parseWholeNumber, 1)
    .action(
      (what: string, opts: { method: 'time' | 'hide'; testDays: number; hide: number; seed: number }) => {
        if (what !== 'recommendations')
          throw new ImportError(`cannot evaluate "${what}": only recommendations`);
        const result = evaluateRecommendations(store.data, {
          method: opts.method,
          testDays: opts.testDays,
          hideN: opts.hide,
          seed: opts.seed,
        });
        process.stdout.write(`${formatEvaluation(result)}\n`);
      },
    );

  program
    .command('import')
    .description(
      'Import profiles, products or interactions from a CSV, JSON or NDJSON export (all or nothing).',
    )
    .argument('<kind>', 'profiles | products | interactions')
    .argument('<file>', 'the export to read')
    .option('--map <field=column...>', 'read a field from a differently named column (repeatable)')
    .addOption(
      new Option('--from <format>', 'file format (default: from the extension)').choices(IMPORT_FORMATS),
    )
    .option('--dry-run', 'validate and report, change nothing', false)
    .option('--skip-invalid', 'import the valid rows and report the invalid ones', false)
    .option('--max-errors <n>', 'how many errors to list', parseWholeNumber, 10)
    // Handles, e-mails, names, phones are stored as keyed pseudonyms (or dropped): privacy/pii.ts.
    .addOption(piiOption())
    .addOption(noPiiOption())
    .addOption(piiModeOption())
    .action(async (kind: string, file: string, opts: ImportCliOptions) => {
      if (!IMPORT_KINDS.includes(kind as ImportKind)) {
        throw new ImportError(`cannot import "${kind}": choose profiles, products or interactions`);
      }
      const bar = process.stderr.isTTY ? progressBar() : null;
      try {
        const report = await importFile(store, {
          kind: kind as ImportKind,
          file,
          ...(opts.from ? { format: opts.from } : {}),
          map: parseMap(opts.map ?? []),
          dryRun: opts.dryRun,
          skipInvalid: opts.skipInvalid,
          maxErrors: opts.maxErrors,
          now: clock(),
          pii: piiOptionsFrom(opts, config, (message) => process.stderr.write(`${message}\n`)),
          actor: CLI_ACTOR,
          ...(bar ? { onProgress: bar.update } : {}),
        });
        bar?.stop();
        process.stdout.write(`${formatImportReport(report)}\n`);
        if (!report.applied && !report.dryRun) process.exitCode = 2;
      } finally {
        bar?.stop();
      }
    });

  registerPrivacyCommands(program, { config, store, clock });
  return program;
}

const IMPORT_KINDS: readonly ImportKind[] = ['profiles', 'products', 'interactions'];
const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'json', 'ndjson'];

interface ImportCliOptions {
  map?: string[];
  from?: ImportFormat;
  dryRun: boolean;
  skipInvalid: boolean;
  maxErrors: number;
  pii?: string;
  noPii?: string;
  piiMode?: PiiMode;
}

function parseMap(pairs: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new ImportError(`--map ${pair}: write it as field=column, e.g. --map id=user_handle_id`);
    }
    map[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return map;
}

// A progress bar only on a terminal: piped output and CI logs stay clean.
function progressBar() {
  const bar = new SingleBar(
    { format: 'importing [{bar}] {percentage}% | {rows} rows | {eta_formatted} left', hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update: (p: { bytesRead: number; totalBytes: number; rows: number }) => {
      if (stopped) return;
      if (!started) {
        bar.start(Math.max(1, p.totalBytes), 0, { rows: 0 });
        started = true;
      }
      bar.update(p.bytesRead, { rows: p.rows });
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
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
  let code = 0;
  try {
    const config = loadConfig();
    store = await openStore({
      file: config.dataFile,
      flushDelayMs: config.flushDelayMs,
      encryption: storeEncryption(config, argv),
    });
    const fixed = config.fixedNow;
    const clock: Clock = fixed ? () => new Date(fixed) : () => new Date();
    await buildProgram(config, store, clock).parseAsync(argv);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode;
    } else if (error instanceof UserError) {
      process.stderr.write(`${error.message}\n`);
      code = 1;
    } else {
      throw error;
    }
  }
  // Saving at exit can fail too (the app holds the lock, the disk is full): say so instead of a stack trace.
  try {
    await store?.close();
  } catch (error) {
    process.stderr.write(`${error instanceof UserError ? error.message : String(error)}\n`);
    code = 1;
  }
  return code;
}
