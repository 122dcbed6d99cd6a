import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyAudienceData, type Profile } from '../../src/domain/types.ts';
import { encodeAudienceData } from '../../src/store/codec.ts';
import type { MigrationStep } from '../../src/store/migrations.ts';
import {
  type FileStore,
  markAudienceChanged,
  type OpenStoreOptions,
  openStore,
  SCHEMA_VERSION,
  StoreError,
} from '../../src/store/store.ts';
import { bulkData, makeTempDir, richData } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
const opened: FileStore[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  file = path.join(dir, 'audience.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close().catch(() => undefined);
  await cleanup();
});

async function open(
  options: Partial<OpenStoreOptions> = {},
): Promise<{ store: FileStore; notices: string[] }> {
  const notices: string[] = [];
  const store = await openStore({ file, onNotice: (m) => notices.push(m), ...options });
  opened.push(store);
  return { store, notices };
}

async function reopen(store: FileStore): Promise<FileStore> {
  await store.close();
  return (await open()).store;
}

/** Expects openStore to fail with a StoreError of `code`; returns it. */
async function openFails(
  code: StoreError['code'],
  options: Partial<OpenStoreOptions> = {},
): Promise<StoreError> {
  const error = await openStore({ file, onNotice: () => undefined, ...options }).then(
    () => {
      throw new Error('openStore succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

describe('openStore', () => {
  it('starts empty on a missing file and creates parent directories on the first write', async () => {
    file = path.join(dir, 'nested', 'deeper', 'audience.db');
    const { store } = await open();
    expect(store.data).toEqual(emptyAudienceData(SCHEMA_VERSION));
    expect(store.file).toBe(file);
    expect(existsSync(file)).toBe(false);
    await store.commit((d) => {
      d.audit.push({ at: 1, actor: 'U1', action: 'test', detail: '' });
    });
    expect(existsSync(file)).toBe(true);
    expect((await readFile(file, 'utf8')).startsWith('#audience-insights-store/1 ')).toBe(true);
  });

  it('round-trips every collection, attribute kind and null field', async () => {
    const { store } = await open();
    const data = richData();
    await store.commit((d) => Object.assign(d, structuredClone(data)));
    const again = await reopen(store);
    expect(again.data).toStrictEqual(data);
  });

  it('round-trips more rows than one chunk line holds', async () => {
    const { store } = await open();
    const data = bulkData(60_000);
    await store.commit((d) => Object.assign(d, data));
    const again = await reopen(store);
    expect(again.data.profiles).toHaveLength(60_000);
    expect(again.data.profiles[59_999]).toStrictEqual(data.profiles[59_999]);
    expect(again.data.interactions).toStrictEqual(data.interactions);
  });

  it('keeps top-level keys it does not know about', async () => {
    const { store } = await open();
    await store.commit((d) => {
      (d as unknown as Record<string, unknown>).futureThing = { a: [1, null, 'x'] };
    });
    const again = await reopen(store);
    expect((again.data as unknown as Record<string, unknown>).futureThing).toEqual({ a: [1, null, 'x'] });
  });

  it('reads a plain lowdb JSON file, fills in missing keys, and writes our format back', async () => {
    await writeFile(
      file,
      JSON.stringify(
        { schemaVersion: 1, profiles: [{ id: 'a', followers: 3 }], meta: { dataVersion: 2 } },
        null,
        2,
      ),
    );
    const { store } = await open();
    expect(store.data.profiles).toStrictEqual([
      {
        id: 'a',
        platform: null,
        country: null,
        created_at: null,
        last_active_at: null,
        followers: 3,
        interests: [],
        attrs: {},
      },
    ]);
    expect(store.data.meta).toEqual({ dataVersion: 2, updatedAt: null, source: null });
    expect(store.data.interactions).toEqual([]);
    await store.commit((d) => markAudienceChanged(d, new Date(1_000), 'import'));
    expect((await readFile(file, 'utf8')).startsWith('#audience-insights-store/')).toBe(true);
    const again = await reopen(store);
    expect(again.data.meta).toEqual({ dataVersion: 3, updatedAt: 1_000, source: 'import' });
  });
});

describe('update() and flushing', () => {
  it('applies changes at once and coalesces many updates into one write', async () => {
    const { store } = await open({ flushDelayMs: 10_000 });
    await store.commit((d) => Object.assign(d, richData()));
    const inodeBefore = (await stat(file)).ino;
    for (let i = 0; i < 50; i++) {
      store.update((d) => {
        d.audit.push({ at: i, actor: 'U1', action: 'tick', detail: String(i) });
      });
      expect(store.data.audit).toHaveLength(2 + i);
    }
    await store.flush();
    // One write: the file present before the updates became the .bak, with no write in between.
    expect((await stat(`${file}.bak`)).ino).toBe(inodeBefore);
    expect((await stat(file)).ino).not.toBe(inodeBefore);
    const again = await reopen(store);
    expect(again.data.audit.map((a) => a.detail).slice(-2)).toEqual(['48', '49']);
  });

  it('flushes in the background after the delay without being asked', async () => {
    const { store } = await open({ flushDelayMs: 5 });
    store.update((d) => {
      d.profiles.push({ ...(richData().profiles[0] as Profile), id: 'bg' });
    });
    await vi.waitFor(() => expect(existsSync(file)).toBe(true), { timeout: 5_000 });
    const again = await reopen(store);
    expect(again.data.profiles.map((p) => p.id)).toEqual(['bg']);
  });

  it('holds background saves back while the app is busy, for at most the deferral limit', async () => {
    const { store } = await open({ flushDelayMs: 5 });
    let busy = true;
    store.deferBackgroundSaves(() => busy, 60_000);
    store.update((d) => {
      d.profiles.push({ ...(richData().profiles[0] as Profile), id: 'held' });
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(existsSync(file)).toBe(false);
    busy = false;
    await vi.waitFor(() => expect(existsSync(file)).toBe(true), { timeout: 5_000 });

    // Busy for good: the change still lands once the limit has passed.
    busy = true;
    store.deferBackgroundSaves(() => busy, 100);
    const before = (await stat(file)).mtimeMs;
    store.update((d) => {
      d.profiles.push({ ...(richData().profiles[0] as Profile), id: 'late' });
    });
    await vi.waitFor(async () => expect((await stat(file)).mtimeMs).not.toBe(before), { timeout: 5_000 });
    const again = await reopen(store);
    expect(again.data.profiles.map((p) => p.id)).toEqual(['held', 'late']);
  });

  it('never runs two writes at once and saves changes made during a write', async () => {
    const { store } = await open({ flushDelayMs: 1 });
    const first = store.commit((d) => Object.assign(d, richData()));
    store.update((d) => {
      d.products.push({ id: 'p3', name: 'Late', category: 'home', price: 1, in_stock: true });
    });
    const second = store.commit((d) => {
      d.meta.dataVersion = 42;
    });
    await Promise.all([first, second, store.flush()]);
    const again = await reopen(store);
    expect(again.data.products.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
    expect(again.data.meta.dataVersion).toBe(42);
  });

  it('reports background write errors through onFlushError, never to update(), and retries', async () => {
    const errors: Error[] = [];
    const { store } = await open({ flushDelayMs: 1, onFlushError: (e) => errors.push(e) });
    // A directory where the temp file must go makes every save fail.
    await mkdir(`${file}.tmp`);
    expect(() =>
      store.update((d) => {
        d.audit.push({ at: 1, actor: 'U', action: 'a', detail: '' });
      }),
    ).not.toThrow();
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
    expect(errors[0]).toBeInstanceOf(StoreError);
    expect((errors[0] as StoreError).code).toBe('unwritable');
    expect(errors[0]?.message).toContain(file);
    expect(store.data.audit).toHaveLength(1);
    await expect(store.commit(() => undefined)).rejects.toMatchObject({ code: 'unwritable' });

    await rm(`${file}.tmp`, { recursive: true });
    await store.flush();
    const again = await reopen(store);
    expect(again.data.audit).toHaveLength(1);
  });

  it('refuses changes after close', async () => {
    const { store } = await open();
    await store.close();
    expect(() => store.update(() => undefined)).toThrow(StoreError);
    await expect(store.commit(() => undefined)).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('markAudienceChanged', () => {
  it('bumps the data version and time, and sets the source when given', () => {
    const data = emptyAudienceData(SCHEMA_VERSION);
    markAudienceChanged(data, new Date(5_000), 'sample');
    markAudienceChanged(data, new Date(6_000));
    expect(data.meta).toEqual({ dataVersion: 2, updatedAt: 6_000, source: 'sample' });
  });
});

describe('crash safety', () => {
  it('keeps the previous file intact when the writing process is killed mid-write', async () => {
    const { store } = await open();
    await store.commit((d) => Object.assign(d, richData()));
    await store.close();
    const before = await readFile(file);

    const fixture = path.join(import.meta.dirname, 'fixtures', 'commit-big.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file, '200000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const tmpName = `${path.basename(file)}.tmp`;
    const kill = () => {
      if (existsSync(path.join(dir, tmpName))) child.kill('SIGKILL');
    };
    const watcher = watch(dir, (_event, name) => {
      if (name === tmpName) kill();
    });
    const poll = setInterval(kill, 2);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    watcher.close();
    clearInterval(poll);

    expect(exit.signal, stderr).toBe('SIGKILL');
    // Killed while the temp file was being written: the real name still holds the previous bytes.
    expect(existsSync(path.join(dir, tmpName))).toBe(true);
    expect(await readFile(file)).toEqual(before);

    const { store: after, notices } = await open();
    expect(after.data).toStrictEqual(richData());
    expect(notices.join('\n')).toContain('interrupted save');
    // The next save takes over the dead child's lock and replaces the leftover temp file.
    await after.commit((d) => {
      d.meta.dataVersion += 1;
    });
    expect(notices.join('\n')).toContain('no longer running');
    expect(existsSync(path.join(dir, tmpName))).toBe(false);
  }, 60_000);

  it('recovers from <file>.bak when the main file is missing (death between the two renames)', async () => {
    const { store } = await open();
    await store.commit((d) => Object.assign(d, richData()));
    await store.commit((d) => {
      d.meta.dataVersion = 100;
    });
    await store.close();
    // What a crash between "main -> .bak" and "tmp -> main" leaves behind.
    await rm(file);

    const { store: recovered, notices } = await open();
    expect(recovered.data).toStrictEqual(richData());
    expect(notices.join('\n')).toContain(`recovered the last good copy from ${file}.bak`);
    await recovered.flush();
    expect(existsSync(file)).toBe(true);
  });
});

describe('bad files', () => {
  async function expectUntouched(code: StoreError['code'], bytes: Buffer | string): Promise<StoreError> {
    await writeFile(file, bytes);
    const error = await openFails(code);
    expect(await readFile(file)).toEqual(Buffer.from(bytes));
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(error.message).toContain(file);
    return error;
  }

  it('refuses garbage with a message saying how to fix it', async () => {
    const error = await expectUntouched('corrupt', 'hello, this is not our file\n');
    expect(error.message).toContain('not an Audience Insights data file');
    expect(error.message).toContain('move');
  });

  it('refuses an empty file', async () => {
    const error = await expectUntouched('corrupt', '');
    expect(error.message).toContain('empty');
  });

  it('refuses a truncated file and points at the .bak when there is one', async () => {
    const whole = Buffer.concat(encodeAudienceData(richData()));
    await writeFile(`${file}.bak`, whole);
    const error = await expectUntouched('corrupt', whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(error.message).toContain('cut short');
    expect(error.message).toContain(`${file}.bak`);
    expect(await readFile(`${file}.bak`)).toEqual(whole);
  });

  it('refuses a file cut exactly at a line end (no end marker)', async () => {
    const lines = encodeAudienceData(richData());
    const error = await expectUntouched('corrupt', Buffer.concat(lines.slice(0, -1)));
    expect(error.message).toContain('end marker is missing');
  });

  it('detects an edit through the checksum', async () => {
    const text = Buffer.concat(encodeAudienceData(richData())).toString('utf8');
    const edited = text.replace('"Mug"', '"Mog"');
    expect(edited).not.toBe(text);
    const error = await expectUntouched('corrupt', edited);
    expect(error.message).toContain('checksum mismatch: the file was truncated or edited');
  });

  it('refuses broken plain JSON', async () => {
    const error = await expectUntouched('corrupt', '{"profiles": [');
    expect(error.message).toContain('does not parse');
  });

  it('refuses a file from a newer schema', async () => {
    const newer = Buffer.concat(encodeAudienceData(richData(), { schemaVersion: SCHEMA_VERSION + 1 }));
    const error = await expectUntouched('newer_schema', newer);
    expect(error.message).toContain(`schema ${SCHEMA_VERSION + 1}`);
    expect(error.message).toContain('Upgrade');
  });

  it('refuses a file in a newer file format', async () => {
    const text = Buffer.concat(encodeAudienceData(richData())).toString('utf8');
    await expectUntouched(
      'newer_schema',
      text.replace('#audience-insights-store/1 ', '#audience-insights-store/9 '),
    );
  });

  it('reports a path that cannot be read as unreadable', async () => {
    await mkdir(file);
    const error = await openFails('unreadable');
    expect(error.message).toContain(file);
  });
});

describe('migrations', () => {
  // A made-up schema 0 that called the data version `version`.
  const v0Step: MigrationStep = {
    from: 0,
    description: 'rename meta.version to meta.dataVersion',
    up(data) {
      const meta = data.meta as { version: number; updatedAt: number | null };
      data.meta = { dataVersion: meta.version, updatedAt: meta.updatedAt, source: null };
      return data;
    },
  };

  function v0File(): Buffer {
    const data = richData();
    (data as unknown as { meta: unknown }).meta = { version: 7, updatedAt: 11 };
    return Buffer.concat(encodeAudienceData(data, { schemaVersion: 0 }));
  }

  it('migrates an older file on open and saves it in the current schema', async () => {
    await writeFile(file, v0File());
    const { store, notices } = await open({ migrations: [v0Step] });
    expect(store.data.schemaVersion).toBe(SCHEMA_VERSION);
    expect(store.data.meta).toEqual({ dataVersion: 7, updatedAt: 11, source: null });
    expect(store.data.profiles).toStrictEqual(richData().profiles);
    expect(notices.join('\n')).toContain('from schema 0 to 1');
    await store.close();
    expect((await readFile(file, 'utf8')).split('\n')[0]).toContain(`"schemaVersion":${SCHEMA_VERSION}`);
  });

  it('refuses an older file it has no migration for, leaving it untouched', async () => {
    const bytes = v0File();
    await writeFile(file, bytes);
    const error = await openFails('migration_failed');
    expect(error.message).toContain('no migration from schema version 0');
    expect(await readFile(file)).toEqual(bytes);
  });
});

describe('locking', () => {
  it('lets several stores read the same file without locking it', async () => {
    const { store } = await open();
    await store.commit((d) => Object.assign(d, richData()));
    await store.close();
    const { store: a } = await open();
    const { store: b } = await open();
    expect(a.data).toStrictEqual(b.data);
    await a.close();
    await b.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('lets only one store write, and refuses to overwrite changes another made', async () => {
    const { store: first } = await open();
    const { store: second } = await open();
    await first.commit((d) => {
      d.meta.dataVersion = 1;
    });
    expect(existsSync(`${file}.lock`)).toBe(true);
    const locked = await second
      .commit((d) => {
        d.meta.dataVersion = 2;
      })
      .catch((e: unknown) => e);
    expect(locked).toBeInstanceOf(StoreError);
    expect((locked as StoreError).code).toBe('locked');
    expect((locked as StoreError).message).toContain(`${file}.lock`);
    expect(second.data.meta.dataVersion).toBe(2);

    await first.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    // The lock is free now, but `second` loaded the file before `first` changed it.
    await expect(second.flush()).rejects.toMatchObject({ code: 'conflict' });

    const { store: third } = await open();
    expect(third.data.meta.dataVersion).toBe(1);
    await third.commit((d) => {
      d.meta.dataVersion = 3;
    });
    await third.commit((d) => {
      d.meta.dataVersion = 4;
    });
  });

  it('takes over the lock of a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid as number;
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(`${file}.lock`, JSON.stringify({ pid, host: hostname(), since: 0 }));
    const { store, notices } = await open();
    await store.commit(() => undefined);
    expect(notices.join('\n')).toContain(`left by process ${pid}`);
  });
});
