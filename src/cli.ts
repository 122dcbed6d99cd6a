/**
 * The `audience` command line. Arguments are parsed before anything heavy loads: each command imports what it
 * needs when it runs, and the data file is opened only by commands that read it, so `audience help` and
 * `audience --version` answer at once. bin/audience.js runs the build of this file (dist/, made on install).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerConnectorCommands } from './cli/connector-commands.ts';
import { type CliContext, contextWithStore, lazyStoreContext } from './cli/context.ts';
import { registerImportCommand } from './cli/import-command.ts';
import { registerMigrateCommand } from './cli/migrate-command.ts';
import { parseWholeNumber } from './cli/options.ts';
import { registerPrivacyCommands, storeEncryption } from './cli/privacy-commands.ts';
import { type RoutedCommands, registerRoutedCommands } from './cli/routed-commands.ts';
import { registerSampleCommand } from './cli/sample-command.ts';
import { packageVersion } from './cli/version.ts';
import { type AppConfig, loadConfig } from './config.ts';
import { ImportError, UsageError, UserError } from './domain/errors.ts';
import { type Clock, INTERACTION_TYPES, type InteractionType } from './domain/types.ts';
import type { Store } from './store/store.ts';

/** The commands the CLI runs itself; every other word goes to the router (and loads it). */
const OWN_COMMANDS = new Set([
  'sample',
  'evaluate',
  'import',
  'encrypt',
  'decrypt',
  'rotate-key',
  'audit',
  'connect',
  'connections',
  'sync',
  'disconnect',
  'migrate',
]);

/**
 * Commands that take no write lock on the configured store first: those that never write (the program's own
 * name: unknown words, answered with the closest command), and `migrate`, which opens and locks its own sides.
 */
const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'audience',
  'help',
  'stats',
  'audit',
  'evaluate',
  'connections',
  'migrate',
]);

/** Builds the `audience` program over an open store: the CLI's own commands (tests of encryption use it). */
export function buildProgram(config: AppConfig, store: Store, clock: Clock): Command {
  return createProgram(contextWithStore(config, store, clock), null, (code) => {
    process.exitCode = code;
  });
}

function createProgram(
  ctx: CliContext,
  routed: RoutedCommands | null,
  setExitCode: (code: number) => void,
): Command {
  const program = new Command('audience')
    .description('Audience Insights: segments, predictions, recommendations and stats for your audience.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .exitOverride();
  // A command that may change the data takes the write lock before any work: while the app runs it is refused
  // at once, with one message saying what to do, instead of doing the work and failing to save it at the end.
  program.hook('preAction', async (_program, action) => {
    // `audience import` with nothing to import only prints its help.
    const helpOnly = ['import', 'connect'].includes(action.name()) && action.args.length === 0;
    if (!READ_ONLY_COMMANDS.has(action.name()) && !helpOnly) await (await ctx.store()).claimWrites();
  });
  if (routed) registerRoutedCommands(program, routed, setExitCode);
  registerSampleCommand(program, ctx);
  registerEvaluateCommand(program, ctx);
  registerImportCommand(program, ctx, setExitCode);
  registerPrivacyCommands(program, ctx);
  registerConnectorCommands(program, ctx, setExitCode);
  registerMigrateCommand(program, ctx);
  return program;
}

/** The options of `audience evaluate recommendations`. */
interface EvaluateCliOptions {
  method: 'time' | 'hide' | 'given';
  testDays: number;
  hide: number;
  given: number;
  folds: number;
  types?: string;
  seed: number;
}

function registerEvaluateCommand(program: Command, ctx: CliContext): void {
  program
    .command('evaluate')
    .description(
      'Offline evaluation of recommendations against popularity and random lists: time split, hidden items or given-N.',
    )
    .argument('<what>', 'recommendations')
    .addOption(
      new Option('--method <method>', 'time split, hidden items, or N known items per test user')
        .choices(['time', 'hide', 'given'])
        .default('time'),
    )
    .option('--test-days <n>', 'days held out by the time split', parseWholeNumber, 30)
    .option('--hide <n>', 'items hidden per test user by the hide split', parseWholeNumber, 2)
    .option('--given <n>', 'items known per test user by the given split', parseWholeNumber, 5)
    .option('--folds <n>', 'user folds of the given split', parseWholeNumber, 5)
    .option(
      '--types <types>',
      `interaction types to use, comma-separated (default all: ${INTERACTION_TYPES.join(',')})`,
    )
    .option('--seed <n>', 'random seed of the hide and given splits', parseWholeNumber, 1)
    .action(async (what: string, opts: EvaluateCliOptions) => {
      if (what !== 'recommendations') throw new UsageError(`cannot evaluate "${what}": only recommendations`);
      const types = opts.types === undefined ? undefined : parseTypes(opts.types);
      const [{ evaluateRecommendations, formatEvaluation }, { engineAudience }, store] = await Promise.all([
        import('./engine/evaluate.ts'),
        import('./queries/audience.ts'),
        ctx.store(),
      ]);
      const data = await engineAudience(store, {
        needs: 'evaluate',
        instead: 'run it with SNAPSHOT_MAX_ROWS=0 on a machine with the memory for the whole audience',
      });
      const result = evaluateRecommendations(data, {
        method: opts.method,
        testDays: opts.testDays,
        hideN: opts.hide,
        given: opts.given,
        folds: opts.folds,
        seed: opts.seed,
        ...(types ? { types } : {}),
      });
      process.stdout.write(`${formatEvaluation(result)}\n`);
    });
}

/** `--types rating,purchase` as interaction types; an unknown name is a usage error naming the valid ones. */
function parseTypes(list: string): InteractionType[] {
  const types: InteractionType[] = [];
  for (const t of list.split(',').map((w) => w.trim())) {
    const known = INTERACTION_TYPES.find((type) => type === t);
    if (known === undefined) {
      throw new ImportError(
        `unknown interaction type "${t}" in --types: use ${INTERACTION_TYPES.join(', ')}`,
      );
    }
    types.push(known);
  }
  return types;
}

/** The first word that is not an option: the subcommand, if any. */
function subcommandOf(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

/** Whether commander should know the router's subcommands: not for the CLI's own commands or `--version`. */
function needsRouter(argv: readonly string[]): boolean {
  const sub = subcommandOf(argv);
  if (sub !== undefined) return !OWN_COMMANDS.has(sub);
  return !argv.includes('--version') && !argv.includes('-V');
}

/** Errors whose message is the whole story for the user: one line on stderr, exit 1. */
/** Runs one `audience …` invocation and returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  let ctx: ReturnType<typeof lazyStoreContext> | null = null;
  let code = 0;
  try {
    const config = loadConfig();
    const fixed = config.fixedNow;
    const clock: Clock = fixed ? () => new Date(fixed) : () => new Date();
    ctx = lazyStoreContext(config, clock, storeEncryption(config, argv));
    const routed = needsRouter(argv)
      ? await (await import('./cli/routed-commands.ts')).loadRoutedCommands(ctx)
      : null;
    await createProgram(ctx, routed, (exit) => {
      code = exit;
    }).parseAsync(argv);
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
    await ctx?.close();
  } catch (error) {
    process.stderr.write(`${error instanceof UserError ? error.message : String(error)}\n`);
    code = 1;
  }
  return code;
}

// Run directly (`node --import tsx src/cli.ts …`, as the tests and `npm run cli` do): the sources, no build.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await runCli(process.argv);
}
