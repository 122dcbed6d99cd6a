/**
 * Platform tokens at rest: sealed with the data key (DATA_ENCRYPTION_KEY) before they reach the store, opened
 * only in memory for the length of a sync. AES-256-GCM under HKDF-SHA256(data key, random salt,
 * "audience-insights/connector-credentials/v1"), the connection id as additional authenticated data (a sealed
 * blob copied onto another connection does not open). Without a data key nothing is stored: a token in plain
 * text in the data file or a database row is exactly what this module exists to prevent.
 *
 *   sealed = "v1." + base64(salt 16 | nonce 12 | ciphertext | tag 16), plaintext = JSON of the credential map
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { OperatorError } from '../domain/errors.ts';

const INFO = 'audience-insights/connector-credentials/v1';
const PREFIX = 'v1.';
const SALT = 16;
const NONCE = 12;
const TAG = 16;

/** Credentials cannot be stored or opened (no data key, a different key, a damaged value). */
export class CredentialsError extends OperatorError {
  override name = 'CredentialsError';
  readonly code = 'credentials';
}

/** The refusal when there is no data key to seal with. */
export function noKeyMessage(): string {
  return 'Platform tokens are stored only encrypted, and DATA_ENCRYPTION_KEY is not set: set it (generate one with `openssl rand -base64 32`, keep it safe) and connect again.';
}

function fileKey(dataKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, INFO, 32));
}

/** Seals `credentials` for connection `connectionId`; throws CredentialsError without a data key. */
export function sealCredentials(
  credentials: Readonly<Record<string, string>>,
  dataKey: Buffer | null,
  connectionId: string,
): string {
  if (dataKey === null) throw new CredentialsError(noKeyMessage());
  const salt = randomBytes(SALT);
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', fileKey(dataKey, salt), nonce);
  cipher.setAAD(Buffer.from(connectionId, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([salt, nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** Opens sealed credentials of connection `connectionId`; throws CredentialsError saying what to do. */
export function openCredentials(
  sealed: string,
  dataKey: Buffer | null,
  connectionId: string,
): Record<string, string> {
  if (dataKey === null) {
    throw new CredentialsError(
      `The token of connection "${connectionId}" is encrypted and DATA_ENCRYPTION_KEY is not set: set the key it was stored with.`,
    );
  }
  const raw = sealed.startsWith(PREFIX) ? Buffer.from(sealed.slice(PREFIX.length), 'base64') : null;
  if (raw === null || raw.length < SALT + NONCE + TAG) {
    throw new CredentialsError(
      `The stored token of connection "${connectionId}" is damaged: connect it again (audience connect …).`,
    );
  }
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      fileKey(dataKey, raw.subarray(0, SALT)),
      raw.subarray(SALT, SALT + NONCE),
    );
    decipher.setAAD(Buffer.from(connectionId, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    const text = Buffer.concat([
      decipher.update(raw.subarray(SALT + NONCE, raw.length - TAG)),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text) as Record<string, string>;
  } catch {
    throw new CredentialsError(
      `The token of connection "${connectionId}" does not open with this DATA_ENCRYPTION_KEY (a different key, or the value was changed): set the key it was stored with, or connect again.`,
    );
  }
}
