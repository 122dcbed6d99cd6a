import { randomBytes } from 'node:crypto';
import { open as openFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importFile } from '../../src/import/importer.ts';
import { forgetPeople } from '../../src/privacy/forget.ts';
import { loadSample } from '../../src/sample/load.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';
import { makeTempDir } from './helpers.ts';

// Issue #13: after every kind of write, `<file>.bak` is an independent copy (its own inode), so damaging the
// data file in place never damages the copy the "restore the .bak" advice points to.

const NOW = new Date('2026-06-01T09:00:00Z');
const KEY = randomBytes(32);
let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let store: FileStore;

beforeEach(async () => {
  keyNow = null;
  ({ dir, cleanup } = await makeTempDir());
  file = path.join(dir, 'audience.db');
  store = await openStore({ file, flushDelayMs: 5, onNotice: () => undefined });
  await loadSample(store, { profiles: 60, seed: 2, now: NOW });
  // A second save, so there is a .bak of an earlier version.
  await store.commit((d) => {
    d.meta.updatedAt = NOW.getTime() + 1;
  });
});
afterEach(async () => {
  await store.close().catch(() => undefined);
  await cleanup();
});

/** Checks the .bak is its own file, then damages the data file in place and checks the .bak did not change. */
async function expectIndependentBackup(previous?: Buffer): Promise<void> {
  const [main, bak] = await Promise.all([stat(file), stat(`${file}.bak`)]);
  expect(bak.ino).not.toBe(main.ino);
  expect(main.nlink).toBe(1);
  expect(bak.nlink).toBe(1);
  expect(bak.mode & 0o777).toBe(0o600);
  const before = await readFile(`${file}.bak`);
  if (previous) expect(before.equals(previous)).toBe(true);
  const good = await readFile(file);
  const handle = await openFile(file, 'r+');
  try {
    await handle.write(Buffer.from('damaged in place'), 0, 16, 40);
  } finally {
    await handle.close();
  }
  expect((await readFile(`${file}.bak`)).equals(before)).toBe(true);
  // Undo the damage and load again, so the test can go on writing.
  await writeFile(file, good);
  await store.close();
  store = await openStore({ file, flushDelayMs: 5, onNotice: () => undefined, encryption: { key: keyNow } });
}

let keyNow: Buffer | null = null;

describe('the .bak copy', () => {
  it('is the previous version, in its own file, after a plain save', async () => {
    const previous = await readFile(file);
    await store.commit((d) => {
      d.meta.updatedAt = NOW.getTime() + 2;
    });
    await expectIndependentBackup(previous);
  });

  it('is the previous version, in its own file, after an import', async () => {
    const previous = await readFile(file);
    const csv = path.join(dir, 'profiles.csv');
    await writeFile(csv, 'id,country\nnew-person,DE\n');
    const report = await importFile(store, { kind: 'profiles', file: csv, now: NOW });
    expect(report.applied).toBe(true);
    await expectIndependentBackup(previous);
  });

  it('is its own file, without the forgotten person, after a forget', async () => {
    const id = store.data.profiles[0]?.id as string;
    await store.change((tx) => forgetPeople(tx, new Set([id])), { now: NOW, scrubBackup: true });
    expect((await readFile(`${file}.bak`)).includes(id)).toBe(false);
    await expectIndependentBackup();
  });

  it('is its own file after encrypt, rotate-key and decrypt', async () => {
    for (const key of [KEY, randomBytes(32), null]) {
      await store.atRest.changeKey(key);
      keyNow = key;
      await expectIndependentBackup();
    }
  });
});
