/**
 * The CLI side of privacy: import options for identifiers (--pii, --no-pii, --pii-mode), and the operator
 * commands `audience encrypt | decrypt | rotate-key | audit`. The CLI acts as an admin (local operator), and
 * every encryption change is audited. Key material is never printed. The policy itself is in src/privacy/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import type { AppConfig } from '../config.ts';
import { OperatorError } from '../domain/errors.ts';
import { appendAudit, auditEntry, formatAudit, parseSince } from '../privacy/audit.ts';
import type { PiiMode, PiiOptions } from '../privacy/pii.ts';
import {
  createPseudonymizer,
  type Pseudonymizer,
  pseudonymizerFor,
  pseudonymKeyFile,
} from '../privacy/pseudonym.ts';
import {
  EncryptionError,
  generateDataKey,
  keyId,
  parseDataKey,
  readEncryptionHeader,
} from '../store/encryption.ts';
import type { AdapterEncryption } from '../store/file-adapter.ts';
import type { Store } from '../store/store.ts';
import type { CliContext } from './context.ts';

/** The actor name of the CLI in the audit log. */
export const CLI_ACTOR = 'cli';

/** Raised for an encryption command that cannot run as asked; the message says what to do. */
export class KeyCommandError extends OperatorError {
  override name = 'KeyCommandError';
  readonly code = 'key_command';
}

/**
 * How the CLI opens the store: with DATA_ENCRYPTION_KEY when set; `audience encrypt` may also read the plain
 * file it is about to encrypt (everything else refuses a plain file while a key is set).
 */
export function storeEncryption(
  config: Pick<AppConfig, 'dataEncryptionKey'>,
  argv: readonly string[],
): AdapterEncryption {
  const key = config.dataEncryptionKey ? parseDataKey(config.dataEncryptionKey) : null;
  const subcommand = argv.slice(2).find((a) => !a.startsWith('-'));
  return { key, allowPlaintext: subcommand === 'encrypt' };
}

/** `--pii <columns>` of `audience import`: extra identifier columns. */
export function piiOption(): Option {
  return new Option(
    '--pii <columns>',
    'comma-separated extra columns holding direct identifiers (besides handle, username, name, email, phone…)',
  );
}

/** `--no-pii <columns>` of `audience import`: detected columns to keep as they are. */
export function noPiiOption(): Option {
  const option = new Option(
    '--no-pii <columns>',
    'comma-separated columns to keep as they are although their names look like identifiers',
  );
  // `--no-x` normally negates `--x`; this one takes its own list instead (read as `noPii`).
  option.negate = false;
  return option;
}

/** `--pii-mode pseudonymize|drop` of `audience import`. */
export function piiModeOption(): Option {
  return new Option('--pii-mode <mode>', 'store identifiers as keyed pseudonyms, or drop them')
    .choices(['pseudonymize', 'drop'])
    .default('pseudonymize');
}

/**
 * The importer's identifier options from the parsed CLI options. A dry run changes nothing, so where no key
 * exists yet it pseudonymizes under a throwaway key instead of creating the store's key file.
 */
export function piiOptionsFrom(
  opts: { pii?: string; noPii?: string; piiMode?: PiiMode; dryRun?: boolean },
  config: Pick<AppConfig, 'pseudonymKey' | 'dataFile'>,
  notice: (message: string) => void,
): PiiOptions {
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
  const mode = opts.piiMode ?? 'pseudonymize';
  return {
    mode,
    columns: list(opts.pii),
    notColumns: list(opts.noPii),
    pseudonymizer: mode === 'pseudonymize' ? importPseudonymizer(opts.dryRun === true, config, notice) : null,
  };
}

function importPseudonymizer(
  dryRun: boolean,
  config: Pick<AppConfig, 'pseudonymKey' | 'dataFile'>,
  notice: (message: string) => void,
): Pseudonymizer {
  const hasKey = config.pseudonymKey !== null || existsSync(pseudonymKeyFile(config.dataFile));
  if (dryRun && !hasKey) return createPseudonymizer(randomBytes(32).toString('base64'));
  return pseudonymizerFor(config, notice);
}

/** Registers `audience encrypt`, `decrypt`, `rotate-key` and `audit` on the program. */
export function registerPrivacyCommands(program: Command, ctx: CliContext): void {
  registerEncryptionCommands(program, ctx);
  registerRotateKeyCommand(program, ctx);
  program
    .command('audit')
    .description('Print the audit log of admin actions (who, what, when; no personal data).')
    .option('--since <when>', 'only entries since a duration ago (7d, 24h, 2w) or a date (2026-05-01)')
    .action(async (opts: { since?: string }) => {
      const since = opts.since === undefined ? null : parseSince(opts.since, ctx.clock().getTime());
      out(formatAudit(await (await ctx.store()).audit.entries(), since));
    });
}

const out = (text: string) => process.stdout.write(`${text}\n`);

/** Every encryption change is audited, and the entry is applied before the key changes. */
function audit(ctx: CliContext, store: Store, action: string, detail: string): Promise<void> {
  return store.change((tx) => appendAudit(tx, auditEntry(CLI_ACTOR, action, detail, ctx.clock().getTime())), {
    wait: 'applied',
  });
}

async function currentKeyId(store: Store): Promise<string | null> {
  return (await readEncryptionHeader(store.location).catch(() => null))?.kid ?? null;
}

/** Encryption at rest is the backend's own (the file backend); a database leaves it to its disks. */
function atRest(store: Store): NonNullable<Store['atRest']> {
  if (store.atRest) return store.atRest;
  throw new KeyCommandError(
    `${store.location} is encrypted at rest by the database's own disk or tablespace encryption, not by this app.`,
  );
}

function registerEncryptionCommands(program: Command, ctx: CliContext): void {
  const { config } = ctx;
  program
    .command('encrypt')
    .description('Encrypt the data file (and its backup) with DATA_ENCRYPTION_KEY, keeping every record.')
    .action(async () => {
      if (!config.dataEncryptionKey) {
        throw new KeyCommandError(
          'Set DATA_ENCRYPTION_KEY first (32 random bytes in base64: `openssl rand -base64 32`), keep a copy in ' +
            'your secret manager, then run `audience encrypt` again.',
        );
      }
      const key = parseDataKey(config.dataEncryptionKey);
      const store = await ctx.store();
      if ((await currentKeyId(store)) === keyId(key)) {
        out(`${store.location} is already encrypted with this key (key id ${keyId(key)}); nothing to do.`);
        return;
      }
      const encryption = atRest(store);
      await audit(ctx, store, 'encryption.enable', `data file encrypted (key id ${keyId(key)})`);
      await encryption.changeKey(key);
      out(
        `Encrypted ${store.location} with AES-256-GCM (key id ${keyId(key)}); its backup copy was replaced too. ` +
          'The app needs DATA_ENCRYPTION_KEY from now on.',
      );
    });

  program
    .command('decrypt')
    .description('Write the data file back in plain text (needs the current DATA_ENCRYPTION_KEY).')
    .action(async () => {
      const store = await ctx.store();
      const was = await currentKeyId(store);
      if (was === null) {
        out(`${store.location} is not encrypted; nothing to do.`);
        return;
      }
      const encryption = atRest(store);
      await audit(ctx, store, 'encryption.disable', `data file decrypted (was key id ${was})`);
      await encryption.changeKey(null);
      out(
        `Decrypted ${store.location}; its backup copy was replaced too. Remove DATA_ENCRYPTION_KEY from the ` +
          'environment now: while it is set, the app refuses a plain data file.',
      );
    });
}

function registerRotateKeyCommand(program: Command, ctx: CliContext): void {
  const { config } = ctx;
  program
    .command('rotate-key')
    .description('Re-encrypt the data file under a new key (from FILE, or generated into FILE).')
    .requiredOption(
      '--new-key-file <file>',
      'file holding the new key in base64; if it does not exist, a new random key is written there (owner-only)',
    )
    .action(async (opts: { newKeyFile: string }) => {
      if (!config.dataEncryptionKey) {
        throw new KeyCommandError(
          'DATA_ENCRYPTION_KEY is not set, so there is no key to rotate; to encrypt a plain file use `audience encrypt`.',
        );
      }
      const newKey = await readOrCreateKeyFile(opts.newKeyFile);
      const oldId = keyId(parseDataKey(config.dataEncryptionKey));
      if (keyId(newKey) === oldId)
        throw new KeyCommandError('the new key is the current key; give another one');
      const store = await ctx.store();
      const encryption = atRest(store);
      await audit(ctx, store, 'encryption.rotate', `key id ${oldId} -> ${keyId(newKey)}`);
      // Platform tokens are sealed with the data key too: re-sealed first, so the rewrite carries them.
      const { resealCredentials } = await import('../connectors/connections.ts');
      const tokens = await resealCredentials(store, parseDataKey(config.dataEncryptionKey), newKey);
      await encryption.changeKey(newKey);
      out(
        `Re-encrypted ${store.location}${tokens > 0 ? ` and ${tokens} platform token${tokens === 1 ? '' : 's'}` : ''} under the new key (key id ${keyId(newKey)}); its backup copy was replaced ` +
          `too. Set DATA_ENCRYPTION_KEY to the contents of ${opts.newKeyFile} before starting the app again, ` +
          'store it in your secret manager, then delete that file.',
      );
    });
}

async function readOrCreateKeyFile(file: string): Promise<Buffer> {
  try {
    return parseDataKey(await readFile(file, 'utf8'));
  } catch (error) {
    if (error instanceof EncryptionError) {
      throw new KeyCommandError(`${file} does not hold a key: ${error.message}`);
    }
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const text = generateDataKey();
  try {
    await writeFile(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new KeyCommandError(`cannot write a new key to ${file}: ${(error as Error).message}`);
  }
  return parseDataKey(text);
}
