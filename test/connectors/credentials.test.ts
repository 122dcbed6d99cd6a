/** Platform tokens at rest: sealed with the data key, bound to their connection, refused without a key. */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resealCredentials } from '../../src/connectors/connections.ts';
import { CredentialsError, openCredentials, sealCredentials } from '../../src/connectors/credentials.ts';
import { generateDataKey, parseDataKey } from '../../src/store/encryption.ts';
import { connectFake, syncSetup } from './helpers.ts';

let env: Awaited<ReturnType<typeof syncSetup>>;
beforeEach(async () => {
  env = await syncSetup();
});
afterEach(() => env.cleanup());

describe('credentials at rest', () => {
  it('seal and open again with the same key and connection, and the sealed text holds no token', () => {
    const sealed = sealCredentials({ accessToken: 'shpat_secret123' }, env.dataKey, 'shop');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain('shpat');
    expect(openCredentials(sealed, env.dataKey, 'shop')).toEqual({ accessToken: 'shpat_secret123' });
    // A fresh salt and nonce each time: the same token never seals to the same text.
    expect(sealCredentials({ accessToken: 'shpat_secret123' }, env.dataKey, 'shop')).not.toBe(sealed);
  });

  it('do not open with another key, on another connection, or when changed', () => {
    const sealed = sealCredentials({ accessToken: 't' }, env.dataKey, 'shop');
    const other = parseDataKey(generateDataKey());
    expect(() => openCredentials(sealed, other, 'shop')).toThrow(
      /does not open with this DATA_ENCRYPTION_KEY/,
    );
    expect(() => openCredentials(sealed, env.dataKey, 'shop-2')).toThrow(CredentialsError);
    const flipped = `${sealed.slice(0, -4)}${sealed.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(() => openCredentials(flipped, env.dataKey, 'shop')).toThrow(CredentialsError);
    expect(() => openCredentials(sealed, null, 'shop')).toThrow(/DATA_ENCRYPTION_KEY is not set/);
  });

  it('are never stored without a data key: connecting is refused, saying how to set one', async () => {
    await expect(connectFake({ ...env.deps, dataKey: null }, 'http://127.0.0.1:9')).rejects.toThrow(
      /DATA_ENCRYPTION_KEY is not set.*openssl rand -base64 32/,
    );
    expect(await env.store.connections.list()).toEqual([]);
  });

  it('reach the data file sealed only', async () => {
    await connectFake(env.deps, 'http://127.0.0.1:9', 'tok_very_secret_value');
    await env.store.flush();
    const text = await readFile(env.file, 'utf8');
    expect(text).toContain('"insta"');
    expect(text).not.toContain('tok_very_secret_value');
    const record = await env.store.connections.get('insta');
    const sealed = record?.credentials as string;
    expect(openCredentials(sealed, env.dataKey, 'insta')).toEqual({ accessToken: 'tok_very_secret_value' });
  });

  it('are re-sealed under a new data key when the key rotates (audience rotate-key)', async () => {
    await connectFake(env.deps, 'http://127.0.0.1:9', 'tok_rotate_me');
    const next = parseDataKey(generateDataKey());
    expect(await resealCredentials(env.store, env.dataKey, next)).toBe(1);
    const sealed = (await env.store.connections.get('insta'))?.credentials as string;
    expect(openCredentials(sealed, next, 'insta')).toEqual({ accessToken: 'tok_rotate_me' });
    expect(() => openCredentials(sealed, env.dataKey, 'insta')).toThrow(CredentialsError);
    // A wrong "old" key changes nothing.
    await expect(resealCredentials(env.store, env.dataKey, next)).rejects.toThrow(CredentialsError);
    expect((await env.store.connections.get('insta'))?.credentials).toBe(sealed);
  });
});
