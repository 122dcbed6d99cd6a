import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storeEncryption } from '../../src/cli/privacy-commands.ts';
import { buildProgram } from '../../src/cli.ts';
import type { AppConfig } from '../../src/config.ts';
import { encodeAudienceData } from '../../src/store/codec.ts';
import {
  ENCRYPTED_MAGIC,
  EncryptionError,
  encryptLines,
  keyId,
  openEncryptedFile,
  parseDataKey,
} from '../../src/store/encryption.ts';
import { openStore, type Store, StoreError } from '../../src/store/store.ts';
import { filesContaining, filesIn, NOW, sampleStore, tempDir, testConfig } from './helpers.ts';

const KEY = randomBytes(32);
const KNOWN_ID = 'u000042';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
const open: Store[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = path.join(dir, 'audience.db');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  await cleanup();
});

async function encryptedStore(profiles = 200): Promise<Store> {
  const store = await sampleStore(testConfig(dir), { profiles, encryption: { key: KEY } });
  open.push(store);
  // A second save, so the .bak is a full earlier copy written by this process too.
  await store.commit((d) => {
    d.meta.updatedAt = NOW.getTime() + 1;
  });
  return store;
}

async function expectRefused(
  encryption: { key: Buffer | null } | undefined,
  code: string,
): Promise<StoreError> {
  const error = await openStore({
    file,
    onNotice: () => undefined,
    ...(encryption ? { encryption } : {}),
  }).then(
    (s) => {
      open.push(s);
      return null;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

async function runCli(config: AppConfig, words: string[]): Promise<void> {
  const store = await openStore({
    file: config.dataFile,
    flushDelayMs: 5,
    onNotice: () => undefined,
    encryption: storeEncryption(config, ['node', 'audience', ...words]),
  });
  // The commands report to stdout; keep the test output clean.
  const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await buildProgram(config, store, () => NOW).parseAsync(words, { from: 'user' });
  } finally {
    quiet.mockRestore();
    await store.close();
  }
}

describe('encryption at rest', () => {
  it('writes the data file, its .bak and temp copies with no plaintext', async () => {
    const store = await encryptedStore();
    const product = store.data.products[0]?.name as string;
    await store.close();
    const files = await filesIn(dir);
    expect([...files.keys()].sort()).toEqual(['audience.db', 'audience.db.bak']);
    for (const bytes of files.values())
      expect(bytes.toString('latin1').startsWith(ENCRYPTED_MAGIC)).toBe(true);
    for (const needle of [KNOWN_ID, product, 'instagram', 'purchase', 'profiles']) {
      expect(await filesContaining(dir, needle)).toEqual([]);
    }
    const reopened = await openStore({ file, encryption: { key: KEY }, onNotice: () => undefined });
    open.push(reopened);
    expect(reopened.data.profiles.some((p) => p.id === KNOWN_ID)).toBe(true);
    expect(reopened.data.products[0]?.name).toBe(product);
  });

  it('encrypts the temp file while it is being written', async () => {
    const store = await sampleStore(testConfig(dir), { encryption: { key: KEY } });
    open.push(store);
    const tmp = `${file}.tmp`;
    const seen: Buffer[] = [];
    let done = false;
    const saving = store
      .commit((d) => {
        for (let i = 0; i < 60_000; i++) {
          d.profiles.push({
            id: `u${String(i).padStart(6, '0')}`,
            platform: 'instagram',
            country: 'DE',
            created_at: NOW.getTime(),
            last_active_at: null,
            followers: i,
            interests: ['sports'],
            attrs: { handle: `ps_${'a'.repeat(26)}` },
          });
        }
      })
      .finally(() => {
        done = true;
      });
    while (!done) {
      const bytes = await readFile(tmp).catch(() => null);
      if (bytes && bytes.length > 0) seen.push(bytes);
      await new Promise((r) => setImmediate(r));
    }
    await saving;
    expect(seen.length).toBeGreaterThan(0);
    for (const bytes of seen) {
      expect(bytes.toString('latin1').startsWith(ENCRYPTED_MAGIC.slice(0, bytes.length))).toBe(true);
      expect(bytes.includes(KNOWN_ID)).toBe(false);
    }
  });

  it('refuses a wrong or missing key with a clear StoreError and leaves both files untouched', async () => {
    await (await encryptedStore()).close();
    open.length = 0;
    const before = await filesIn(dir);
    const wrong = await expectRefused({ key: randomBytes(32) }, 'wrong_key');
    expect(wrong.message).toContain(`key id ${keyId(KEY)}`);
    expect(wrong.message).toContain('left untouched');
    expect((await expectRefused(undefined, 'key_missing')).message).toContain('DATA_ENCRYPTION_KEY');
    const after = await filesIn(dir);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, bytes] of before) expect((after.get(name) as Buffer).equals(bytes), name).toBe(true);
  });

  it('refuses a flipped ciphertext byte, a damaged header, a cut-off or extended file, untouched', async () => {
    await (await encryptedStore()).close();
    open.length = 0;
    const original = await readFile(file);
    const bak = await readFile(`${file}.bak`);
    const damaged: Array<[string, Buffer]> = [];
    const flip = (at: number) => {
      const copy = Buffer.from(original);
      copy[at] = (copy[at] as number) ^ 0x01;
      return copy;
    };
    damaged.push(['ciphertext byte', flip(Math.floor(original.length / 2))]);
    damaged.push(['last tag byte', flip(original.length - 1)]);
    damaged.push(['header', flip(original.indexOf('"salt"') + 10)]);
    damaged.push(['cut off', original.subarray(0, original.length - 100)]);
    damaged.push(['extended', Buffer.concat([original, Buffer.from('x')])]);
    for (const [what, bytes] of damaged) {
      await writeFile(file, bytes);
      const error = await expectRefused({ key: KEY }, 'corrupt');
      expect(error.message, what).toContain('left untouched');
      expect((await readFile(file)).equals(bytes), what).toBe(true);
      expect((await readFile(`${file}.bak`)).equals(bak), what).toBe(true);
    }
  });

  it('refuses a plain file while a key is set (a swapped-in file is not trusted)', async () => {
    const plain = await sampleStore(testConfig(dir), { profiles: 50 });
    await plain.close();
    const error = await expectRefused({ key: KEY }, 'not_encrypted');
    expect(error.message).toContain('audience encrypt');
  });

  it('authenticates every frame: reordered frames and a missing final frame are refused', async () => {
    const lines = encodeAudienceData((await sampleStore(testConfig(dir), { profiles: 30 })).data);
    open.length = 0;
    const chunks = [...encryptLines(lines, KEY, { frameBytes: 256 })].filter((c): c is Buffer => c !== null);
    const whole = Buffer.concat(chunks);
    const headerEnd = whole.indexOf(10) + 1;
    const frame = 1 + 4 + 12 + 256 + 16;
    const read = async (bytes: Buffer) => {
      const target = path.join(dir, 'frames.bin');
      await writeFile(target, bytes);
      const { chunks: plain } = await openEncryptedFile(target, [KEY]);
      const out: Buffer[] = [];
      for await (const c of plain) out.push(c);
      return Buffer.concat(out);
    };
    expect((await read(whole)).equals(Buffer.concat(lines))).toBe(true);
    const swapped = Buffer.concat([
      whole.subarray(0, headerEnd),
      whole.subarray(headerEnd + frame, headerEnd + 2 * frame),
      whole.subarray(headerEnd, headerEnd + frame),
      whole.subarray(headerEnd + 2 * frame),
    ]);
    await expect(read(swapped)).rejects.toMatchObject({ kind: 'tampered' });
    await expect(read(whole.subarray(0, headerEnd + 3 * frame))).rejects.toMatchObject({ kind: 'truncated' });
    await expect(openEncryptedFile(path.join(dir, 'frames.bin'), [randomBytes(32)])).rejects.toBeInstanceOf(
      EncryptionError,
    );
  });

  it('migrates with audience encrypt, rotate-key and decrypt without losing a record', async () => {
    const plainConfig = testConfig(dir);
    const plain = await sampleStore(plainConfig, { profiles: 150 });
    const expected = JSON.stringify({ ...plain.data, audit: [] });
    await plain.commit(() => undefined);
    await plain.close();
    const keyText = KEY.toString('base64');
    const withKey = testConfig(dir, { DATA_ENCRYPTION_KEY: keyText });
    const snapshot = async (key: Buffer | null) => {
      const s = await openStore({ file, onNotice: () => undefined, encryption: { key } });
      const data = JSON.stringify({ ...s.data, audit: [] });
      const audit = s.data.audit.map((a) => a.action);
      await s.close();
      return { data, audit };
    };

    await runCli(withKey, ['encrypt']);
    for (const bytes of (await filesIn(dir)).values()) {
      expect(bytes.toString('latin1').startsWith(ENCRYPTED_MAGIC)).toBe(true);
    }
    expect(await filesContaining(dir, KNOWN_ID)).toEqual([]);
    expect((await snapshot(KEY)).data).toBe(expected);

    const keyFile = path.join(dir, 'new.key');
    await runCli(withKey, ['rotate-key', '--new-key-file', keyFile]);
    const newKey = parseDataKey(await readFile(keyFile, 'utf8'));
    await expectRefused({ key: KEY }, 'wrong_key');
    expect((await snapshot(newKey)).data).toBe(expected);
    const bak = await readFile(`${file}.bak`);
    expect(bak.toString('latin1')).toContain(keyId(newKey));

    await runCli(testConfig(dir, { DATA_ENCRYPTION_KEY: newKey.toString('base64') }), ['decrypt']);
    const after = await snapshot(null);
    expect(after.data).toBe(expected);
    expect(after.audit).toEqual(['encryption.enable', 'encryption.rotate', 'encryption.disable']);
    for (const bytes of (await filesIn(dir)).values()) {
      expect(bytes.toString('latin1').startsWith(ENCRYPTED_MAGIC)).toBe(false);
    }
  });
});
