/**
 * A lock file beside the data file (`<file>.lock`, holding the owner's pid and host) so two processes,
 * say the app and the CLI, never both write the same data file. A lock whose process is gone is taken over.
 *
 * A process on another host (a shared disk, or a container replaced by a new one with another hostname)
 * cannot be checked for life from here, so its holder refreshes the lock's timestamp every minute while it
 * runs; a foreign lock not refreshed for `STALE_FOREIGN_LOCK_MS` is stale and taken over, with a notice.
 */
import { readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  host: string;
  since: number;
}

/** Thrown when another live process holds the lock. */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(
    readonly lockFile: string,
    readonly owner: LockOwner | null,
  ) {
    super(`${lockFile} is held by ${owner ? `process ${owner.pid} on ${owner.host}` : 'another process'}`);
  }
}

/** A held lock. */
export interface HeldLock {
  readonly lockFile: string;
  /** Set when a stale lock of a dead process was taken over. */
  readonly notice: string | null;
  release(): Promise<void>;
}

const held = new Set<string>();
let exitHookInstalled = false;

// A just-created lock may be read before its owner wrote the content; give it this long to appear.
const UNREADABLE_GRACE_MS = 5_000;
/** How often a holder refreshes its lock's timestamp. */
export const LOCK_REFRESH_MS = 60_000;
/** A lock of another host not refreshed for this long (ten missed refreshes) belongs to a process that is gone. */
export const STALE_FOREIGN_LOCK_MS = 10 * LOCK_REFRESH_MS;

/** A lock file's owner as written, and when its timestamp was last refreshed. */
type Found = { owner: LockOwner; refreshedAt: number } | 'gone' | 'fresh';

/** Takes `<file>.lock` (creating the parent directory), or throws LockHeldError. */
export async function acquireLock(file: string): Promise<HeldLock> {
  const lockFile = `${file}.lock`;
  await mkdir(path.dirname(lockFile), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() };
  let notice: string | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Readable by the owner only, like the data file it sits beside (docs/PRIVACY.md).
      await writeFile(lockFile, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      await chmod(lockFile, 0o600).catch(() => undefined);
      return holding(lockFile, notice);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = await readOwner(lockFile);
    if (found === 'fresh') throw new LockHeldError(lockFile, null);
    if (found !== 'gone') {
      const stale = staleness(found);
      if (stale === null) throw new LockHeldError(lockFile, found.owner);
      notice = `took over the lock ${lockFile} left by process ${found.owner.pid}${stale}`;
    }
    await rm(lockFile, { force: true });
  }
  throw new LockHeldError(lockFile, null);
}

/** A held lock whose timestamp is refreshed while this process runs (see the module comment). */
function holding(lockFile: string, notice: string | null): HeldLock {
  held.add(lockFile);
  installExitHook();
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(lockFile, now, now).catch(() => undefined);
  }, LOCK_REFRESH_MS);
  // The refresh must not keep a process alive that has nothing else to do.
  refresh.unref();
  return {
    lockFile,
    notice,
    async release() {
      clearInterval(refresh);
      held.delete(lockFile);
      await rm(lockFile, { force: true });
    },
  };
}

/** Why a found lock is stale (the end of the takeover notice), or null while its holder may be running. */
function staleness(found: { owner: LockOwner; refreshedAt: number }): string | null {
  const { owner, refreshedAt } = found;
  if (owner.host !== hostname()) {
    const age = Date.now() - refreshedAt;
    if (age < STALE_FOREIGN_LOCK_MS) return null;
    return (
      ` on host ${owner.host}, which cannot be checked from here: its timestamp was last refreshed ` +
      `${new Date(refreshedAt).toISOString()}, ${Math.round(age / 60_000)} minutes ago, while a running ` +
      'holder refreshes it every minute (a replaced container or a stopped machine)'
    );
  }
  return isAlive(owner) ? null : ', which is no longer running';
}

async function readOwner(lockFile: string): Promise<Found> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(lockFile)).mtimeMs;
  } catch {
    return 'gone';
  }
  try {
    const owner = JSON.parse(await readFile(lockFile, 'utf8')) as LockOwner;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string')
      return { owner, refreshedAt: mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
  }
  return Date.now() - mtimeMs < UNREADABLE_GRACE_MS
    ? 'fresh'
    : { owner: { pid: -1, host: hostname(), since: mtimeMs }, refreshedAt: mtimeMs };
}

function isAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return true;
  if (owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const lockFile of held) {
      try {
        // Only remove a lock that is still ours.
        if ((JSON.parse(readFileSync(lockFile, 'utf8')) as LockOwner).pid === process.pid) rmSync(lockFile);
      } catch {
        // Best effort on the way out.
      }
    }
  });
}
