/**
 * Keyed pseudonyms for direct identifiers (handles, e-mail addresses, names, phone numbers): the importer
 * stores `ps_` + base32 of the first 16 bytes of HMAC-SHA256(key, normalized value) instead of the value.
 * The same person gets the same pseudonym in every import, so lookups by handle still work (the query is
 * pseudonymized the same way, see queries/people.ts), while the stored data never holds the identifier itself and
 * cannot be reversed without the key (nor matched by hashing guesses, as an unkeyed hash could).
 *
 * The key is PSEUDONYM_KEY, or, when that is not set, a random key generated on first use into
 * `<data file>.pseudonym-key` (owner-only). Changing the key changes every pseudonym: data imported under the
 * old key no longer matches lookups.
 */

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OperatorError } from '../domain/errors.ts';

/** What kind of identifier a value is; decides how it is normalized before hashing. */
export type IdentifierKind = 'handle' | 'email' | 'phone' | 'name';

/** Turns identifiers into stable keyed pseudonyms. */
export interface Pseudonymizer {
  /** A short public fingerprint of the key (not the key), to tell keys apart in audit entries. */
  readonly keyId: string;
  pseudonym(value: string, kind: IdentifierKind): string;
}

/** What every pseudonym looks like: `ps_` and 26 base32 characters (128 bits). */
export const PSEUDONYM_PATTERN = /^ps_[a-z2-7]{26}$/;

/** Whether a stored value is a pseudonym written by this module. */
export function isPseudonym(value: unknown): value is string {
  return typeof value === 'string' && PSEUDONYM_PATTERN.test(value);
}

/**
 * The canonical form of an identifier, so `@Jane`, `jane` and ` JANE ` are one person: handles lose the
 * leading `@` and case, e-mail addresses their case, phone numbers everything but digits and a leading `+`,
 * names their case and repeated spaces.
 */
export function normalizeIdentifier(value: string, kind: IdentifierKind): string {
  const text = value.normalize('NFKC').trim();
  switch (kind) {
    case 'handle':
      return text.replace(/^@+/, '').toLowerCase();
    case 'email':
      return text.toLowerCase();
    case 'phone': {
      const digits = text.replace(/[^\d]/g, '');
      return text.startsWith('+') ? `+${digits}` : digits;
    }
    default:
      return text.replace(/\s+/g, ' ').toLowerCase();
  }
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** A pseudonymizer over `secret` (the PSEUDONYM_KEY text or the key file's content, used as UTF-8 bytes). */
export function createPseudonymizer(secret: string): Pseudonymizer {
  const key = Buffer.from(secret, 'utf8');
  const keyId = createHash('sha256')
    .update('audience-insights/pseudonym-key-id/v1')
    .update(key)
    .digest('hex');
  return {
    keyId: keyId.slice(0, 12),
    pseudonym(value, kind) {
      // One HMAC for every kind: a handle and an e-mail column holding the same text meet in one pseudonym,
      // which is what lets `@jane` find the person whichever column carried it.
      const mac = createHmac('sha256', key).update(normalizeIdentifier(value, kind), 'utf8').digest();
      return `ps_${base32(mac.subarray(0, 16))}`;
    },
  };
}

/** Where the generated pseudonym key lives when PSEUDONYM_KEY is not set. */
export function pseudonymKeyFile(dataFile: string): string {
  return `${dataFile}.pseudonym-key`;
}

/** Raised when the pseudonym key file cannot be read or created. */
export class PseudonymKeyError extends OperatorError {
  override name = 'PseudonymKeyError';
  readonly code = 'pseudonym_key';
}

/**
 * The pseudonym key: PSEUDONYM_KEY when set, else the key file beside the data file, created with a random
 * key (mode 0600) on first use. A key file readable by others is tightened to 0600 and `notice` hears of it.
 */
export function loadPseudonymKey(
  options: { pseudonymKey: string | null; dataFile: string },
  notice: (message: string) => void = () => undefined,
): { secret: string; source: 'config' | 'file' | 'generated' } {
  if (options.pseudonymKey) return { secret: options.pseudonymKey, source: 'config' };
  const file = pseudonymKeyFile(options.dataFile);
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 16)
      throw new PseudonymKeyError(`the pseudonym key file ${file} is damaged (too short)`);
    if ((statSync(file).mode & 0o077) !== 0) {
      chmodSync(file, 0o600);
      notice(`${file} was readable by other users; it is now readable by its owner only`);
    }
    return { secret, source: 'file' };
  } catch (error) {
    if (error instanceof PseudonymKeyError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PseudonymKeyError(
        `Cannot read the pseudonym key file ${file}: ${(error as Error).message}. Fix its permissions or set PSEUDONYM_KEY.`,
      );
    }
  }
  const secret = randomBytes(32).toString('base64');
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': if another process created it a moment ago, use theirs rather than overwrite it.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadPseudonymKey(options, notice);
    throw new PseudonymKeyError(
      `Cannot create the pseudonym key file ${file}: ${(error as Error).message}. Set PSEUDONYM_KEY instead.`,
    );
  }
  notice(`generated a pseudonym key in ${file} (owner-only); back it up with the data file`);
  return { secret, source: 'generated' };
}

const cache = new Map<string, Pseudonymizer>();

/**
 * The pseudonymizer for a configuration (cached), creating the key file on first use. The app and the CLI
 * call it at start so the key exists before any import; commands call it when a lookup needs it.
 */
export function pseudonymizerFor(
  config: { pseudonymKey: string | null; dataFile: string },
  notice?: (message: string) => void,
): Pseudonymizer {
  const cacheKey = config.pseudonymKey ? `key:${config.pseudonymKey}` : `file:${config.dataFile}`;
  const known = cache.get(cacheKey);
  if (known) return known;
  const made = createPseudonymizer(loadPseudonymKey(config, notice).secret);
  cache.set(cacheKey, made);
  return made;
}
