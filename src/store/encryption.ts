/**
 * Encryption at rest for the data file: an authenticated, streamed container around the store's own lines.
 *
 *   #audience-insights-encrypted/1 {"cipher":"aes-256-gcm","kdf":"hkdf-sha256","kid":"<16 hex>","salt":"<b64>","frameBytes":1048576}\n
 *   frame 0, frame 1, …, frame n (the last one flagged final)
 *
 * One frame = flags (1 byte: bit 0 = final) | length (uint32 BE) | nonce (12 random bytes) | ciphertext | GCM tag (16).
 * Every frame holds `frameBytes` of plaintext except the final one (0..frameBytes). Its additional
 * authenticated data is SHA-256(header line) | frame index (uint64 BE) | flags, so frames cannot be edited,
 * reordered, dropped, moved between files, or cut off after a non-final frame without failing authentication;
 * a missing final frame is reported as truncation, and nothing may follow it.
 *
 * Keys: DATA_ENCRYPTION_KEY is a 32-byte master key. Each write draws a fresh random 16-byte salt, and the
 * frames are encrypted under HKDF-SHA256(master, salt, "audience-insights/store/v1/aes-256-gcm"): a new AES key
 * per file, so random 96-bit nonces are never close to their collision bound. The header's `kid` is
 * HKDF(master, "", "audience-insights/key-id/v1") truncated to 8 bytes: it tells a wrong key from a damaged file
 * before anything is decrypted, and reveals nothing about the key.
 *
 * Plaintext is released one frame at a time and only after that frame's tag verified, so the store's parser
 * never sees unauthenticated bytes, and neither writing nor reading ever holds more than a frame or two.
 */

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { OperatorError } from '../domain/errors.ts';

/** The first bytes of an encrypted data file. */
export const ENCRYPTED_MAGIC = '#audience-insights-encrypted/';
/** The container version this build writes and reads. */
export const ENCRYPTED_FORMAT_VERSION = 1;
/** Plaintext bytes per frame: large enough to amortise the per-frame cost, small enough to stream. */
export const DEFAULT_FRAME_BYTES = 1 << 20;

const CIPHER = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FRAME_HEAD_BYTES = 1 + 4 + NONCE_BYTES;
const FLAG_FINAL = 1;
const MAX_HEADER_BYTES = 4096;
const MIN_FRAME_BYTES = 16;
const MAX_FRAME_BYTES = 64 << 20;
const FILE_KEY_INFO = 'audience-insights/store/v1/aes-256-gcm';
const KEY_ID_INFO = 'audience-insights/key-id/v1';

/** Why an encrypted file could not be read; the store turns it into a StoreError naming the file. */
export type EncryptionErrorKind =
  | 'key_missing'
  | 'wrong_key'
  | 'tampered'
  | 'truncated'
  | 'not_encrypted'
  | 'newer_format';

/** A problem with an encrypted data file or a key; the message says what is wrong in plain words. */
export class EncryptionError extends OperatorError {
  override name = 'EncryptionError';
  readonly code: EncryptionErrorKind;
  constructor(
    readonly kind: EncryptionErrorKind,
    message: string,
  ) {
    super(message);
    this.code = kind;
  }
}

/** Decodes a DATA_ENCRYPTION_KEY value (base64 of exactly 32 bytes); throws EncryptionError otherwise. */
export function parseDataKey(base64: string): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== 32) {
    throw new EncryptionError(
      'wrong_key',
      'an encryption key must be 32 random bytes in base64 (generate one with `openssl rand -base64 32`)',
    );
  }
  return key;
}

/** A new random 32-byte key, base64-encoded. */
export function generateDataKey(): string {
  return randomBytes(32).toString('base64');
}

/** The public identifier of a master key (16 hex digits), as written in the header of files it encrypted. */
export function keyId(key: Buffer): string {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), KEY_ID_INFO, 8)).toString('hex');
}

/** Whether the first bytes of a file are those of an encrypted data file. */
export function isEncryptedHead(head: Buffer): boolean {
  return head.toString('latin1', 0, ENCRYPTED_MAGIC.length) === ENCRYPTED_MAGIC;
}

interface ContainerHeader {
  kid: string;
  salt: Buffer;
  frameBytes: number;
}

function fileKey(master: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, FILE_KEY_INFO, 32));
}

function aad(headerHash: Buffer, index: number, flags: number): Buffer {
  const out = Buffer.alloc(headerHash.length + 9);
  headerHash.copy(out, 0);
  out.writeBigUInt64BE(BigInt(index), headerHash.length);
  out[headerHash.length + 8] = flags;
  return out;
}

/**
 * Encrypts the store's lines as they are generated (a sync generator in, a sync generator out, so the
 * store's batching writer and its event-loop pauses, the `null`s, work unchanged). Each call draws a new salt.
 */
export function* encryptLines(
  lines: Iterable<Buffer | null>,
  key: Buffer,
  options: { frameBytes?: number } = {},
): Generator<Buffer | null> {
  const frameBytes = options.frameBytes ?? DEFAULT_FRAME_BYTES;
  if (frameBytes < MIN_FRAME_BYTES || frameBytes > MAX_FRAME_BYTES) throw new RangeError('bad frame size');
  const salt = randomBytes(16);
  const k = fileKey(key, salt);
  const header = {
    cipher: CIPHER,
    kdf: 'hkdf-sha256',
    kid: keyId(key),
    salt: salt.toString('base64'),
    frameBytes,
  };
  const headerLine = Buffer.from(`${ENCRYPTED_MAGIC}${ENCRYPTED_FORMAT_VERSION} ${JSON.stringify(header)}\n`);
  const headerHash = createHash('sha256').update(headerLine).digest();
  yield headerLine;

  let index = 0;
  // Plaintext waiting for its frame: slices of the encoder's buffers, never copied into one big buffer.
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  function* seal(bytes: number, final: boolean): Generator<Buffer> {
    const flags = final ? FLAG_FINAL : 0;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, k, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(headerHash, index, flags));
    const head = Buffer.alloc(FRAME_HEAD_BYTES);
    head[0] = flags;
    head.writeUInt32BE(bytes, 1);
    nonce.copy(head, 5);
    yield head;
    let left = bytes;
    while (left > 0) {
      const piece = pending[0] as Buffer;
      const take = Math.min(left, piece.length);
      const out = cipher.update(take === piece.length ? piece : piece.subarray(0, take));
      if (out.length > 0) yield out;
      if (take === piece.length) pending.shift();
      else pending[0] = piece.subarray(take);
      left -= take;
      pendingBytes -= take;
    }
    const rest = cipher.final();
    if (rest.length > 0) yield rest;
    yield cipher.getAuthTag();
    index++;
  }

  for (const line of lines) {
    if (line === null) {
      yield null;
      continue;
    }
    if (line.length === 0) continue;
    pending.push(line);
    pendingBytes += line.length;
    // A full frame is sealed only once more data follows it: the last frame must carry the final flag.
    while (pendingBytes > frameBytes) yield* seal(frameBytes, false);
  }
  yield* seal(pendingBytes, true);
  pending = [];
}

/** Reads the plain header of an encrypted data file, or null when the file is not encrypted. */
export async function readEncryptionHeader(file: string): Promise<ContainerHeader | null> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (!isEncryptedHead(bytes)) return null;
    return parseHeader(bytes).header;
  } finally {
    await handle.close();
  }
}

function parseHeader(bytes: Buffer): { header: ContainerHeader; line: Buffer } {
  const nl = bytes.indexOf(10);
  if (nl < 0) throw new EncryptionError('tampered', 'its encryption header is damaged (no end of line)');
  const line = bytes.subarray(0, nl + 1);
  const match = /^#audience-insights-encrypted\/(\d+) (\{.*\})\n$/s.exec(line.toString('latin1'));
  if (!match) throw new EncryptionError('tampered', 'its encryption header is damaged');
  if (Number(match[1]) > ENCRYPTED_FORMAT_VERSION) {
    throw new EncryptionError(
      'newer_format',
      `it uses encryption format ${match[1]}, newer than this build reads (${ENCRYPTED_FORMAT_VERSION})`,
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(match[2] as string) as Record<string, unknown>;
  } catch {
    throw new EncryptionError('tampered', 'its encryption header is damaged (not JSON)');
  }
  const { cipher, kid, salt, frameBytes } = raw;
  if (
    cipher !== CIPHER ||
    typeof kid !== 'string' ||
    !/^[0-9a-f]{16}$/.test(kid) ||
    typeof salt !== 'string' ||
    Buffer.from(salt, 'base64').length !== 16 ||
    typeof frameBytes !== 'number' ||
    !Number.isInteger(frameBytes) ||
    frameBytes < MIN_FRAME_BYTES ||
    frameBytes > MAX_FRAME_BYTES
  ) {
    throw new EncryptionError('tampered', 'its encryption header is damaged or uses unknown settings');
  }
  return { header: { kid, salt: Buffer.from(salt, 'base64'), frameBytes }, line };
}

/**
 * Opens an encrypted data file with whichever of `keys` wrote it (matched by key id) and returns its
 * authenticated plaintext as a stream of chunks. Throws EncryptionError for a missing or wrong key before
 * decrypting anything; the stream throws EncryptionError on the first frame that fails authentication.
 */
export async function openEncryptedFile(
  file: string,
  keys: readonly Buffer[],
): Promise<{ kid: string; chunks: AsyncGenerator<Buffer> }> {
  const handle = await open(file, 'r');
  let owned = true;
  try {
    const head = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const { header, line } = parseHeader(head.subarray(0, bytesRead));
    if (keys.length === 0) {
      throw new EncryptionError(
        'key_missing',
        `it is encrypted (key id ${header.kid}) and DATA_ENCRYPTION_KEY is not set`,
      );
    }
    const key = keys.find((k) => keyId(k) === header.kid);
    if (!key) {
      throw new EncryptionError(
        'wrong_key',
        `it is encrypted with another key (key id ${header.kid}; DATA_ENCRYPTION_KEY has key id ${keyId(keys[0] as Buffer)})`,
      );
    }
    owned = false;
    return { kid: header.kid, chunks: frames(handle, header, line, fileKey(key, header.salt)) };
  } finally {
    if (owned) await handle.close();
  }
}

async function* frames(
  handle: Awaited<ReturnType<typeof open>>,
  header: ContainerHeader,
  headerLine: Buffer,
  key: Buffer,
): AsyncGenerator<Buffer> {
  try {
    const headerHash = createHash('sha256').update(headerLine).digest();
    let position = headerLine.length;
    const frameHead = Buffer.alloc(FRAME_HEAD_BYTES);
    for (let index = 0; ; index++) {
      const { bytesRead } = await handle.read(frameHead, 0, FRAME_HEAD_BYTES, position);
      if (bytesRead < FRAME_HEAD_BYTES) {
        throw new EncryptionError('truncated', 'it was cut short (its final encrypted frame is missing)');
      }
      const flags = frameHead[0] as number;
      const length = frameHead.readUInt32BE(1);
      if ((flags & ~FLAG_FINAL) !== 0 || length > header.frameBytes) {
        throw new EncryptionError('tampered', `encrypted frame ${index} has a damaged header`);
      }
      const nonce = Buffer.from(frameHead.subarray(5, FRAME_HEAD_BYTES));
      const body = Buffer.allocUnsafe(length + TAG_BYTES);
      const got = length + TAG_BYTES > 0 ? await readFully(handle, body, position + FRAME_HEAD_BYTES) : 0;
      if (got < body.length) {
        throw new EncryptionError('truncated', `it was cut short (in encrypted frame ${index})`);
      }
      position += FRAME_HEAD_BYTES + body.length;
      const decipher = createDecipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(headerHash, index, flags));
      decipher.setAuthTag(body.subarray(length));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(body.subarray(0, length)), decipher.final()]);
      } catch {
        throw new EncryptionError(
          'tampered',
          `encrypted frame ${index} failed authentication: the file was modified or damaged`,
        );
      }
      if ((flags & FLAG_FINAL) !== 0) {
        const extra = await handle.read(Buffer.alloc(1), 0, 1, position);
        if (extra.bytesRead > 0)
          throw new EncryptionError('tampered', 'there is data after its final encrypted frame');
        if (plain.length > 0) yield plain;
        return;
      }
      yield plain;
    }
  } finally {
    await handle.close();
  }
}

async function readFully(
  handle: Awaited<ReturnType<typeof open>>,
  into: Buffer,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
