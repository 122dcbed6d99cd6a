/**
 * The lowdb Adapter over our data file: reads either format (recovering from `<file>.bak` when the main
 * file is missing, migrating older schemas), and writes atomically: temp file, fsync, keep the old file as
 * `<file>.bak`, rename the temp file over the real name.
 *
 * Several processes may open the same file to read (the CLI while the app runs). The first save takes
 * `<file>.lock` and keeps it until close, so only one process ever writes; and a save refuses to replace
 * a file that changed on disk since this process loaded it, which would silently undo another's work.
 */

import type { FileHandle } from 'node:fs/promises';
import { chmod, copyFile, link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Adapter } from 'lowdb';
import type { InteractionColumns } from '../domain/interaction-columns.ts';
import type { AudienceData } from '../domain/types.ts';
import { type DecodedFile, normalizeAudienceData, readDataFile } from './decode.ts';
import { encodeLines } from './encode.ts';
import { EncryptionError, encryptLines, keyId } from './encryption.ts';
import { StoreError } from './errors.ts';
import { CodecError } from './format.ts';
import { acquireLock, type HeldLock, LockHeldError } from './lock.ts';
import { LATEST_SCHEMA_VERSION, type MigrationStep, migrate } from './migrations.ts';

/** The files that live beside a data file. */
export function sideFiles(file: string): { tmp: string; bak: string; lock: string } {
  return { tmp: `${file}.tmp`, bak: `${file}.bak`, lock: `${file}.lock` };
}

/**
 * Encryption at rest (encryption.ts): files are written with `key` (null: plain) and may be read with
 * it or any of `readKeys`; with a key set, a plain file is refused unless `allowPlaintext` (migrating to it).
 */
export interface AdapterEncryption {
  key: Buffer | null;
  readKeys?: readonly Buffer[];
  allowPlaintext?: boolean;
}

/** Reads and writes AudienceData in our format; tells `notice` what it had to do (recover, migrate…). */
export class AudienceFileAdapter implements Adapter<AudienceData> {
  /** True when read() had to fall back to `<file>.bak` or migrate, so the caller should save soon. */
  needsSave = false;
  private lock: HeldLock | null = null;
  /** The main file as this process last saw it (null: absent), to notice another writer. */
  private onDisk: string | null = null;
  /** Key id the main file was last read or written with (null: plain or absent). */
  private onDiskKeyId: string | null = null;
  /** Requests to replace `<file>.bak` after the next save (forget, retention), and how many were served. */
  private scrubRequested = 0;
  private scrubServed = 0;
  /** The interactions' typed columns from the last decode (see takeColumns). */
  private decoded: { interactions: unknown; length: number; columns: InteractionColumns } | null = null;

  constructor(
    readonly file: string,
    private readonly migrations: readonly MigrationStep[],
    private readonly schemaVersion: number = LATEST_SCHEMA_VERSION,
    private readonly notice: (message: string) => void = () => undefined,
    private encryption: AdapterEncryption = { key: null },
  ) {}

  /** Writes from the next save on with `key` (null: plain); the old .bak is replaced after that save. */
  setEncryptionKey(key: Buffer | null): void {
    const old = this.encryption.key;
    this.encryption = {
      key,
      readKeys: [...(old ? [old] : []), ...(this.encryption.readKeys ?? [])],
      allowPlaintext: true,
    };
  }

  /**
   * After the next successful save, `<file>.bak` becomes an independent copy of the new file instead of the
   * old one, so data removed by that save (a forgotten person, purged interactions) is gone from both files.
   */
  requestBackupScrub(): void {
    this.scrubRequested++;
  }

  /**
   * Takes the write lock now, before work that will save, so a process that may not write is refused
   * before it does anything (StoreError 'locked', saying what to do).
   */
  async claim(): Promise<void> {
    await this.takeLock('claim');
  }

  /**
   * The typed columns of the last decode, once, while they still describe `interactions` (the array the decode
   * made, unchanged in length): the engine builds its view from them, then they can be let go.
   */
  takeColumns(interactions: readonly unknown[]): InteractionColumns | null {
    const decoded = this.decoded;
    this.decoded = null;
    if (!decoded || decoded.interactions !== interactions || decoded.length !== interactions.length)
      return null;
    return decoded.columns;
  }

  /** Gives up the write lock, if this process took it. */
  async release(): Promise<void> {
    await this.lock?.release();
    this.lock = null;
  }

  async read(): Promise<AudienceData | null> {
    const { tmp, bak } = sideFiles(this.file);
    if (await exists(tmp)) {
      this.notice(`found ${tmp} left by an interrupted save; it is ignored and the next save replaces it`);
    }
    let decoded: DecodedFile;
    let from = this.file;
    const { key, readKeys = [], allowPlaintext = false } = this.encryption;
    const readOptions = {
      keys: [...(key ? [key] : []), ...readKeys],
      requireEncrypted: key !== null && !allowPlaintext,
    };
    try {
      this.onDisk = await identity(this.file);
      decoded = await readDataFile(this.file, readOptions);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw await this.readError(this.file, error);
      try {
        decoded = await readDataFile(bak, readOptions);
      } catch (bakError) {
        if ((bakError as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw await this.readError(bak, bakError);
      }
      from = bak;
      this.needsSave = true;
      this.notice(
        `${this.file} was missing (a save was probably interrupted); recovered the last good copy from ${bak}`,
      );
    }
    this.onDiskKeyId = decoded.keyId ?? null;
    return this.upgrade(decoded, from);
  }

  private upgrade(decoded: DecodedFile, from: string): AudienceData {
    const version = decoded.schemaVersion ?? this.schemaVersion;
    if (version > this.schemaVersion) {
      throw new StoreError(
        'newer_schema',
        from,
        `The data file ${from} was written by a newer version of Audience Insights (schema ${version}; this ` +
          `version understands up to ${this.schemaVersion}). Upgrade the app, or point it at another data ` +
          'file. The file was left untouched.',
      );
    }
    let raw = decoded.data;
    if (version < this.schemaVersion) {
      try {
        const result = migrate(raw, version, this.migrations, this.schemaVersion);
        raw = result.data;
        this.notice(
          `migrated ${from} from schema ${version} to ${this.schemaVersion}: ${result.applied.join('; ')}`,
        );
      } catch (error) {
        throw new StoreError(
          'migration_failed',
          from,
          `Cannot upgrade the data file ${from}: ${(error as Error).message}. The file was left untouched; ` +
            'open it with the version of the app that wrote it, or move it away to start with an empty data set.',
          { cause: error },
        );
      }
      this.needsSave = true;
    }
    // Our own format decodes straight into the model's shape; anything else gets every key filled in.
    const data =
      decoded.format === 'store' && version === this.schemaVersion
        ? (raw as unknown as AudienceData)
        : normalizeOrThrow(raw, this.schemaVersion, from);
    data.schemaVersion = this.schemaVersion;
    if (decoded.columns) {
      this.decoded = {
        interactions: data.interactions,
        length: data.interactions.length,
        columns: decoded.columns,
      };
    }
    return data;
  }

  /** Takes the write lock on the first save, and refuses to overwrite a file someone else changed. */
  private async prepareWrite(): Promise<void> {
    await this.takeLock('save');
    if ((await identity(this.file)) !== this.onDisk) {
      // Not writing after all: let the process that owns the newer file (or a restarted one) have the lock.
      await this.release();
      throw new StoreError(
        'conflict',
        this.file,
        `Cannot save ${this.file}: another process changed it after this one loaded it, and saving would undo ` +
          'that change. Restart this process to load the current data, then redo the change.',
      );
    }
  }

  private async takeLock(purpose: 'save' | 'claim'): Promise<void> {
    if (this.lock === null) {
      try {
        this.lock = await acquireLock(this.file);
      } catch (error) {
        if (!(error instanceof LockHeldError)) throw this.unwritable(error);
        const who = error.owner
          ? `process ${error.owner.pid} on ${error.owner.host} (since ${new Date(error.owner.since).toISOString()})`
          : 'another process';
        const what =
          purpose === 'save'
            ? `Cannot save ${this.file}`
            : `Cannot change ${this.file} now (nothing was done)`;
        const after = purpose === 'save' ? ' The change is kept in memory until then.' : '';
        throw new StoreError(
          'locked',
          this.file,
          `${what}: it is being written by ${who}. Only one process may change the data ` +
            `file: stop the other one (the app, or another CLI run) and try again, or, if it is certainly not ` +
            `running, delete ${error.lockFile}.${after}`,
          { cause: error },
        );
      }
      if (this.lock.notice) this.notice(this.lock.notice);
    }
  }

  private unwritable(error: unknown): StoreError {
    return new StoreError(
      'unwritable',
      this.file,
      `Could not save ${this.file}: ${(error as Error).message}. The change is kept in memory and the save ` +
        `is retried; check free disk space and write permission on ${path.dirname(this.file)}.`,
      { cause: error },
    );
  }

  private async readError(file: string, error: unknown): Promise<StoreError> {
    if (error instanceof StoreError) return error;
    if (error instanceof EncryptionError) return encryptionReadError(file, error);
    if (error instanceof CodecError) {
      if (error.kind === 'newer_format') {
        return new StoreError(
          'newer_schema',
          file,
          `The data file ${file} was written by a newer version of Audience Insights: ${error.message}. ` +
            'Upgrade the app, or point it at another data file. The file was left untouched.',
        );
      }
      const { bak } = sideFiles(this.file);
      const fix =
        file !== bak && (await exists(bak))
          ? `restore the last good copy (move ${bak} to ${this.file}), or move ${this.file} and ${bak} away to ` +
            'start with an empty data set'
          : `restore it from a backup, or move ${file} away to start with an empty data set`;
      return new StoreError(
        'corrupt',
        file,
        `The data file ${file} is damaged: ${error.message}. It was left untouched. To fix: ${fix}.`,
        { cause: error },
      );
    }
    return new StoreError(
      'unreadable',
      file,
      `Cannot read the data file ${file}: ${(error as Error).message}. Check that it is a regular file this ` +
        'process may read, or point the app at another data file.',
      { cause: error },
    );
  }

  async write(data: AudienceData): Promise<void> {
    try {
      await this.prepareWrite();
    } catch (error) {
      throw error instanceof StoreError ? error : this.unwritable(error);
    }
    const { tmp, bak } = sideFiles(this.file);
    const { key } = this.encryption;
    const writtenKeyId = key ? keyId(key) : null;
    // A save that changes the encryption (or removes someone) must not leave the old contents in the .bak.
    const scrubUpTo = this.scrubRequested;
    const scrub = scrubUpTo > this.scrubServed || writtenKeyId !== this.onDiskKeyId;
    try {
      // encodeLines captures the data now, before the first await (see there for what is captured how).
      const plain = encodeLines(data, { schemaVersion: this.schemaVersion });
      const lines = key ? encryptLines(plain, key) : plain;
      const dir = path.dirname(this.file);
      await mkdir(dir, { recursive: true });
      // Personal data: readable by the owner only (the temp file becomes the data file and, later, the .bak).
      const handle = await open(tmp, 'w', 0o600);
      try {
        await chmod(tmp, 0o600).catch(() => undefined);
        await writeLines(handle, lines);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (await exists(this.file)) {
        await rm(bak, { force: true });
        try {
          // A hard link keeps the real name in place the whole time; rename is the fallback where
          // links are not supported (then a crash between the renames is recovered from the .bak).
          await link(this.file, bak);
        } catch {
          await rename(this.file, bak);
        }
      }
      await rename(tmp, this.file);
      if (scrub) await replaceBackup(this.file, bak);
      await syncDirectory(dir);
      this.onDisk = await identity(this.file);
      this.onDiskKeyId = writtenKeyId;
      this.scrubServed = Math.max(this.scrubServed, scrubUpTo);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      // We hold the lock, so whatever the failed save left at the real name is our own doing (with the
      // rename fallback, possibly nothing): remember it so the retry does not mistake it for another writer.
      this.onDisk = await identity(this.file).catch(() => this.onDisk);
      throw this.unwritable(error);
    }
  }
}

/**
 * Makes `bak` an independent copy of the just-written file (its own inode: damage to the data file in place
 * never reaches it), written beside it and renamed over the old `.bak` so no moment leaves a half copy.
 */
async function replaceBackup(file: string, bak: string): Promise<void> {
  const copy = `${bak}.tmp`;
  try {
    await copyFile(file, copy);
    await chmod(copy, 0o600).catch(() => undefined);
    const handle = await open(copy, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(copy, bak);
  } catch {
    // No .bak until the next save: better than one holding what was just removed or re-encrypted.
    await rm(copy, { force: true }).catch(() => undefined);
    await rm(bak, { force: true });
  }
}

function encryptionReadError(file: string, error: EncryptionError): StoreError {
  const untouched = 'The file was left untouched.';
  switch (error.kind) {
    case 'key_missing':
      return new StoreError(
        'key_missing',
        file,
        `Cannot read the data file ${file}: ${error.message}. Set DATA_ENCRYPTION_KEY to the key it was ` +
          `encrypted with. ${untouched}`,
      );
    case 'wrong_key':
      return new StoreError(
        'wrong_key',
        file,
        `Cannot read the data file ${file}: ${error.message}. Set DATA_ENCRYPTION_KEY to the key the file ` +
          `was written with (after a key rotation: the new key). ${untouched}`,
      );
    case 'not_encrypted':
      return new StoreError(
        'not_encrypted',
        file,
        `The data file ${file} is not encrypted, but DATA_ENCRYPTION_KEY is set, so a plain file is not ` +
          `trusted. Encrypt it with \`audience encrypt\` (keeps every record), or unset DATA_ENCRYPTION_KEY. ${untouched}`,
      );
    case 'newer_format':
      return new StoreError(
        'newer_schema',
        file,
        `The data file ${file} was written by a newer version of Audience Insights: ${error.message}. ` +
          `Upgrade the app. ${untouched}`,
      );
    default:
      return new StoreError(
        'corrupt',
        file,
        `The encrypted data file ${file} cannot be trusted: ${error.message}. ${untouched} Restore it from ` +
          `a backup (or its .bak copy), or move it away to start with an empty data set.`,
        { cause: error },
      );
  }
}

function normalizeOrThrow(raw: Record<string, unknown>, schemaVersion: number, from: string): AudienceData {
  try {
    return normalizeAudienceData(raw, schemaVersion);
  } catch (error) {
    throw new StoreError(
      'corrupt',
      from,
      `The data file ${from} does not hold Audience Insights data: ${(error as Error).message}. It was left ` +
        `untouched; fix or move ${from} away to start with an empty data set.`,
      { cause: error },
    );
  }
}

const WRITE_BATCH_BYTES = 1 << 20;

/** Streams the encoder's lines into the file in batches, yielding to the event loop between chunks. */
async function writeLines(handle: FileHandle, lines: Iterable<Buffer | null>): Promise<void> {
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const drain = async () => {
    const { bytesWritten } = await handle.writev(batch);
    if (bytesWritten < batchBytes) {
      // Short write (rare on files): finish byte by byte range.
      const rest = Buffer.concat(batch).subarray(bytesWritten);
      let offset = 0;
      while (offset < rest.length) offset += (await handle.write(rest, offset)).bytesWritten;
    }
    batch = [];
    batchBytes = 0;
  };
  for (const line of lines) {
    if (line === null) {
      await yieldToEventLoop();
      continue;
    }
    batch.push(line);
    batchBytes += line.length;
    if (batchBytes >= WRITE_BATCH_BYTES) await drain();
  }
  if (batch.length > 0) await drain();
}

/** Which file is at `file` now (null when none): changes whenever anyone replaces or rewrites it. */
async function identity(file: string): Promise<string | null> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Makes the renames durable; some platforms cannot fsync a directory, which is fine to skip. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported here.
  }
}
