/**
 * A lock file beside the data file (`<file>.lock`, holding the owner's pid and host) so two processes,
 * say the app and the CLI, never both write the same data file. A lock whose process is gone is taken over.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

/** Takes `<file>.lock` (creating the parent directory), or throws LockHeldError. */
export async function acquireLock(file: string): Promise<HeldLock> {
  const lockFile = `${file}.lock`;
  await mkdir(path.dirname(lockFile), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), since: Date.now() };
  let notice: string | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(lockFile, JSON.stringify(me), { flag: 'wx' });
      held.add(lockFile);
      installExitHook();
      return {
        lockFile,
        notice,
        async release() {
          held.delete(lockFile);
          await rm(lockFile, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(lockFile);
    if (owner === 'fresh') throw new LockHeldError(lockFile, null);
    if (owner !== 'gone' && isAlive(owner)) throw new LockHeldError(lockFile, owner);
    if (owner !== 'gone') {
      notice = `took over the lock ${lockFile} left by process ${owner.pid}, which is no longer running`;
    }
    await rm(lockFile, { force: true });
  }
  throw new LockHeldError(lockFile, null);
}

async function readOwner(lockFile: string): Promise<LockOwner | 'gone' | 'fresh'> {
  try {
    const owner = JSON.parse(await readFile(lockFile, 'utf8')) as LockOwner;
    if (typeof owner.pid === 'number' && typeof owner.host === 'string') return owner;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
  }
  try {
    const { mtimeMs } = await stat(lockFile);
    return Date.now() - mtimeMs < UNREADABLE_GRACE_MS
      ? 'fresh'
      : { pid: -1, host: hostname(), since: mtimeMs };
  } catch {
    return 'gone';
  }
}

function isAlive(owner: LockOwner): boolean {
  // Another machine's process (shared disk) cannot be checked from here: assume it is running.
  if (owner.host !== hostname()) return true;
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
