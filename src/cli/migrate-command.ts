/**
 * `audience migrate`: moves the audience between the data file and PostgreSQL with the store-to-store transfer
 * (src/store/postgres/transfer.ts), which copies in one change and verifies every collection by row count and
 * SHA-256. `--to postgres://…` copies the data file (DATA_FILE, or `--from <file>`) into the database;
 * `--from postgres://… --to <file>` copies the database back into a file. A target that already holds data is
 * refused unless `--replace`. Both sides are opened here (not through the CLI's lazy store), so a file side is
 * locked like any write and the app must not run on it meanwhile.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AppConfig } from '../config.ts';
import { UsageError } from '../domain/errors.ts';
import { pseudonymKeyFile } from '../privacy/pseudonym.ts';
import { parseDataKey } from '../store/encryption.ts';
import type { Store } from '../store/store.ts';
import type { CliContext } from './context.ts';

/** The options of `audience migrate`. */
interface MigrateOptions {
  to?: string;
  from?: string;
  replace?: boolean;
  team?: string;
}

/** One side of a migration: a database URL or a data file path. */
type Side = { kind: 'postgres'; url: string } | { kind: 'file'; file: string };

/** Registers `audience migrate`. */
export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description(
      'Copy the audience between the data file and PostgreSQL, verified by row counts and SHA-256 checksums.',
    )
    .option('--to <target>', 'postgres://user:password@host:5432/db, or a data file path')
    .option(
      '--from <source>',
      'a data file path (default DATA_FILE), or postgres://… to copy back into a file',
    )
    .option('--replace', 'overwrite a target that already holds an audience')
    .option(
      '--team <id>',
      'the Slack workspace id the rows are filed under (default SLACK_TEAM_ID, or local)',
    )
    .action(async (opts: MigrateOptions) => {
      const { source, target } = sides(opts, ctx.config);
      const teamId = opts.team ?? ctx.config.slackTeamId ?? ctx.config.database?.teamId ?? 'local';
      const from = await openSide(source, teamId, ctx.config);
      try {
        const to = await openSide(target, teamId, ctx.config);
        try {
          const { transferStore } = await import('../store/postgres/transfer.ts');
          const report = await transferStore(from, to, { replace: opts.replace ?? false, now: ctx.clock() });
          process.stdout.write(formatReport(from.location, to.location, teamId, report));
          const note = pseudonymNote(source, ctx.config);
          if (note) process.stdout.write(`${note}\n`);
        } finally {
          await to.close();
        }
      } finally {
        await from.close();
      }
    });
}

/** Source and target from the options: exactly one side is a database. */
function sides(opts: MigrateOptions, config: AppConfig): { source: Side; target: Side } {
  if (!opts.to) {
    throw new UsageError(
      'say where to copy the audience: `audience migrate --to postgres://user@host:5432/db` (from the data file), or `audience migrate --from postgres://… --to audience.db` (back into a file)',
    );
  }
  const to = side(opts.to);
  const from = side(opts.from ?? config.dataFile);
  if ((to.kind === 'postgres') === (from.kind === 'postgres')) {
    throw new UsageError(
      `one side of a migration must be PostgreSQL and the other a data file (got --from ${describe(from)} and --to ${describe(to)})`,
    );
  }
  return { source: from, target: to };
}

function side(text: string): Side {
  return /^postgres(ql)?:\/\//i.test(text)
    ? { kind: 'postgres', url: text }
    : { kind: 'file', file: resolve(text) };
}

function describe(s: Side): string {
  return s.kind === 'file' ? s.file : 'a postgres:// URL';
}

/** Opens one side; a file side takes the data file's lock at once (the app must not run on it). */
async function openSide(s: Side, teamId: string, config: AppConfig): Promise<Store> {
  if (s.kind === 'postgres') {
    const { openPgStore } = await import('../store/postgres/pg-store.ts');
    return openPgStore({ url: s.url, teamId, onNotice: (m) => process.stderr.write(`${m}\n`) });
  }
  const { openStore } = await import('../store/file-store.ts');
  const key = config.dataEncryptionKey ? parseDataKey(config.dataEncryptionKey) : null;
  const store = await openStore({ file: s.file, encryption: { key }, onNotice: () => undefined });
  try {
    await store.claimWrites();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

function formatReport(
  from: string,
  to: string,
  teamId: string,
  report: Awaited<ReturnType<typeof import('../store/postgres/transfer.ts').transferStore>>,
): string {
  const lines = [
    `Copied ${from} into ${to} (workspace ${teamId})${report.replaced ? ', replacing what it held' : ''}; verified:`,
  ];
  for (const [name, c] of Object.entries(report.collections))
    lines.push(`  ${name.padEnd(13)} ${String(c.rows).padStart(10)} rows  sha256 ${c.sha256.slice(0, 16)}`);
  return `${lines.join('\n')}\n`;
}

/** Pseudonyms made with the key file beside the data file only match on the database side with that key. */
function pseudonymNote(source: Side, config: AppConfig): string | null {
  if (source.kind !== 'file' || config.pseudonymKey) return null;
  const keyFile = pseudonymKeyFile(source.file);
  if (!existsSync(keyFile)) return null;
  return `The pseudonyms in this audience were made with the key in ${keyFile}: set PSEUDONYM_KEY to its content for every app replica on the database, or lookups by @handle will not find these people.`;
}
