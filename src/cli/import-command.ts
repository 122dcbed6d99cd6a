/**
 * `audience import KIND FILE`: reads a CSV, JSON or NDJSON export into the store, all or nothing (src/import/).
 * The importer loads when the command runs, so other commands never pay for its parsers.
 */
import { type Command, Option } from 'commander';
import { ImportError } from '../domain/errors.ts';
import type { PiiMode } from '../privacy/pii.ts';
import type { CliContext } from './context.ts';
import { parseWholeNumber } from './options.ts';
import { CLI_ACTOR, noPiiOption, piiModeOption, piiOption, piiOptionsFrom } from './privacy-commands.ts';

const IMPORT_KINDS = ['profiles', 'products', 'interactions'] as const;
const IMPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;

interface ImportCliOptions {
  map?: string[];
  from?: (typeof IMPORT_FORMATS)[number];
  dryRun: boolean;
  skipInvalid: boolean;
  maxErrors: number;
  pii?: string;
  noPii?: string;
  piiMode?: PiiMode;
}

/** Registers `audience import`; its exit code is 2 when the file (or, in a dry run, the file as it is) is refused. */
export function registerImportCommand(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command('import')
    .description(
      'Import profiles, products or interactions from a CSV, JSON or NDJSON export (all or nothing).',
    )
    // Both optional: `audience import` alone (the help's example, as in Slack) explains how to import.
    .argument('[kind]', 'profiles | products | interactions')
    .argument('[file]', 'the export to read')
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
    .action(
      async (
        kind: string | undefined,
        file: string | undefined,
        opts: ImportCliOptions,
        command: Command,
      ) => {
        if (kind === undefined) return command.outputHelp();
        if (file === undefined)
          throw new ImportError(
            `name the file to import: audience import ${kind} <file> (see audience import --help)`,
          );
        setExitCode(await runImport(ctx, kind, file, opts));
      },
    );
}

async function runImport(ctx: CliContext, kind: string, file: string, opts: ImportCliOptions) {
  const chosen = IMPORT_KINDS.find((k) => k === kind);
  if (chosen === undefined) {
    throw new ImportError(`cannot import "${kind}": choose profiles, products or interactions`);
  }
  const map = parseMap(opts.map ?? []);
  const [{ importFile, formatImportReport }, store] = await Promise.all([
    import('../import/importer.ts'),
    ctx.store(),
  ]);
  const bar = process.stderr.isTTY ? (await import('./progress.ts')).progressBar(process.stderr) : null;
  try {
    const report = await importFile(store, {
      kind: chosen,
      file,
      ...(opts.from ? { format: opts.from } : {}),
      map,
      dryRun: opts.dryRun,
      skipInvalid: opts.skipInvalid,
      maxErrors: opts.maxErrors,
      now: ctx.clock(),
      pii: piiOptionsFrom(opts, ctx.config, (message) => process.stderr.write(`${message}\n`)),
      actor: CLI_ACTOR,
      ...(bar ? { onProgress: bar.update } : {}),
    });
    bar?.stop();
    process.stdout.write(`${formatImportReport(report)}\n`);
    if (report.dryRun) {
      // A dry run answers "would this import go through?": no, when rows are invalid (without --skip-invalid).
      const refused = (report.errorCount > 0 && !opts.skipInvalid) || report.valid === 0;
      return refused ? 2 : 0;
    }
    return report.applied ? 0 : 2;
  } finally {
    bar?.stop();
  }
}

function parseMap(pairs: readonly string[]): Record<string, string> {
  // fromEntries defines own properties, so a field named "__proto__" stays a field.
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) {
        throw new ImportError(`--map ${pair}: write it as field=column, e.g. --map id=user_handle_id`);
      }
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
    }),
  );
}
