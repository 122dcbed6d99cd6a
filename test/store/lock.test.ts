import { stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireLock, LOCK_REFRESH_MS, STALE_FOREIGN_LOCK_MS } from '../../src/store/lock.ts';
import { openStore, StoreError } from '../../src/store/store.ts';
import { makeTempDir } from './helpers.ts';

// Issue #13: a lock left by a process on another host (a replaced container) must not block saves forever.

let dir: string;
let cleanup: () => Promise<void>;
let file: string;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  file = path.join(dir, 'audience.db');
});
afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

async function foreignLock(refreshedMsAgo: number): Promise<void> {
  const lock = `${file}.lock`;
  await writeFile(lock, JSON.stringify({ pid: 4242, host: `${hostname()}-old-container`, since: 0 }));
  const at = new Date(Date.now() - refreshedMsAgo);
  await utimes(lock, at, at);
}

describe('the lock file', () => {
  it('is readable by its owner only', async () => {
    const lock = await acquireLock(file);
    expect((await stat(lock.lockFile)).mode & 0o777).toBe(0o600);
    await lock.release();
  });

  it('keeps refusing a lock of another host that is refreshed', async () => {
    await foreignLock(LOCK_REFRESH_MS);
    const store = await openStore({ file, onNotice: () => undefined });
    const error = await store.commit(() => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('locked');
  });

  it('takes over a lock of another host that stopped being refreshed, and says so', async () => {
    await foreignLock(STALE_FOREIGN_LOCK_MS + 60_000);
    const notices: string[] = [];
    const store = await openStore({ file, onNotice: (m) => notices.push(m) });
    await store.commit(() => undefined);
    expect(notices.join('\n')).toMatch(/took over the lock .* left by process 4242 on host .*-old-container/);
    expect(notices.join('\n')).toContain('last refreshed');
    await store.close();
  });

  it('has its timestamp refreshed while the holder runs', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const lock = await acquireLock(file);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lock.lockFile, old, old);
    vi.advanceTimersByTime(LOCK_REFRESH_MS);
    await vi.waitFor(async () => {
      expect((await stat(lock.lockFile)).mtimeMs).toBeGreaterThan(old.getTime() + 60_000);
    });
    await lock.release();
  });
});
