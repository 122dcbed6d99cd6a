import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../../src/config.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { formatImportReport, ImportError, importFile } from '../../src/import/importer.ts';
import {
  createPseudonymizer,
  isPseudonym,
  loadPseudonymKey,
  normalizeIdentifier,
  pseudonymizerFor,
  pseudonymKeyFile,
} from '../../src/privacy/pseudonym.ts';
import { lookupIn, peopleIndex, resolveUserRef } from '../../src/privacy/resolve.ts';
import type { FileStore } from '../../src/store/store.ts';
import { filesContaining, NOW, sampleStore, tempDir, testConfig, visible } from './helpers.ts';

const SLACK_USER: Invocation = { userId: 'U0MEMBER', channelId: 'C0001', surface: 'slack' };
// Identifiers the import brings in; none may be stored, logged or shown.
const RAW = ['Jane_Doe', 'jane.doe@example.com', 'Jane Q. Doe', '5550100', 'Bob_Roe', 'bob.roe@example.org'];

let dir: string;
let cleanup: () => Promise<void>;
// Export files live apart from the data files, which are grepped for identifiers.
let inputs: { dir: string; cleanup: () => Promise<void> };
let config: AppConfig;
let store: FileStore;
let router: Router;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  inputs = await tempDir('audience-inputs-');
  config = testConfig(dir);
  // A busier shop than the default ~5% buyers a month: predict needs 20 purchasers among the 300.
  store = await sampleStore(config, { profiles: 300, buyerShare: 0.2 });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => {
    throw error;
  });
  const csv = [
    'id,handle,Email,Full Name,phone,loyalty',
    'u000001,@Jane_Doe,Jane.Doe@Example.com,Jane Q. Doe,+1 (555) 0100,gold',
    'u000002,Bob_Roe,bob.roe@example.org,Bob Roe,555-0101,silver',
  ].join('\n');
  const input = path.join(inputs.dir, 'people.csv');
  await writeFile(input, csv);
  const report = await importFile(store, {
    kind: 'profiles',
    file: input,
    now: NOW,
    actor: 'cli',
    pii: { pseudonymizer: pseudonymizerFor(config) },
  });
  expect(report.applied).toBe(true);
  expect(report.piiColumns.map((c) => [c.column, c.kind, c.action])).toEqual([
    ['handle', 'handle', 'pseudonymize'],
    ['Email', 'email', 'pseudonymize'],
    ['Full Name', 'name', 'pseudonymize'],
    ['phone', 'phone', 'pseudonymize'],
  ]);
  const printed = formatImportReport(report);
  expect(printed).toContain('stored as pseudonyms');
  for (const raw of RAW) expect(printed).not.toContain(raw);
  await store.flush();
});

afterAll(async () => {
  await store.close();
  await cleanup();
  await inputs.cleanup();
});

describe('pseudonymous identifiers on import', () => {
  it('stores keyed pseudonyms instead of handles, e-mails, names and phone numbers', async () => {
    const jane = store.data.profiles.find((p) => p.id === 'u000001');
    expect(jane?.attrs.loyalty).toBe('gold');
    for (const key of ['handle', 'email', 'full_name', 'phone'])
      expect(isPseudonym(jane?.attrs[key])).toBe(true);
    // The platform id is kept as given.
    expect(jane?.id).toBe('u000001');
    for (const raw of RAW) expect(await filesContaining(dir, raw)).toEqual([]);
    for (const raw of RAW) expect(JSON.stringify(store.data)).not.toContain(raw);
    expect(store.data.audit.at(-1)).toMatchObject({ actor: 'cli', action: 'import' });
    expect(store.data.audit.at(-1)?.detail).toContain('handle pseudonymized');
  });

  it('gives the same person the same pseudonym whatever the spelling, and different keys different ones', () => {
    const a = createPseudonymizer('key-one-0123456789');
    expect(a.pseudonym('@Jane_Doe', 'handle')).toBe(a.pseudonym(' jane_doe ', 'handle'));
    expect(a.pseudonym('Jane.Doe@Example.COM', 'email')).toBe(a.pseudonym('jane.doe@example.com', 'email'));
    expect(normalizeIdentifier('+1 (555) 010-0100', 'phone')).toBe('+15550100100');
    expect(a.pseudonym('jane', 'handle')).not.toBe(
      createPseudonymizer('key-two-0123456789').pseudonym('jane', 'handle'),
    );
    expect(a.pseudonym('jane', 'handle')).toMatch(/^ps_[a-z2-7]{26}$/);
  });

  it('finds people by @handle or e-mail through the same pseudonym, in one place', async () => {
    const p = pseudonymizerFor(config);
    const people = lookupIn(peopleIndex(store.data.profiles));
    expect(await resolveUserRef(people, '@jane_doe', p)).toBe('u000001');
    expect(await resolveUserRef(people, 'JANE.DOE@example.com', p)).toBe('u000001');
    expect(await resolveUserRef(people, '@bob_roe', p)).toBe('u000002');
    expect(await resolveUserRef(people, 'u000003', p)).toBe('u000003');
    await expect(resolveUserRef(people, '@nobody_here', p)).rejects.toThrow(/no profile has that handle/);
  });

  it('answers predict and recommend for user=@handle, privately, without repeating the handle', async () => {
    const predict = await router.dispatch('predict user=@Jane_Doe', SLACK_USER);
    expect(predict.data).toMatchObject({
      perPerson: true,
      forecast: { scope: { kind: 'user', userId: 'u000001' } },
    });
    const recommend = await router.dispatch('recommend user=jane.doe@example.com n=3', SLACK_USER);
    expect(recommend.data).toMatchObject({ perPerson: true, userId: 'u000001' });
    const missing = await router.dispatch('predict user=@nobody_here', SLACK_USER);
    expect(missing.data).toHaveProperty('error');
    for (const reply of [predict, recommend, missing]) {
      for (const raw of [...RAW, 'jane_doe', 'nobody_here'])
        expect(visible(reply).toLowerCase()).not.toContain(raw.toLowerCase());
    }
  });

  it('drops identifier columns with --pii-mode drop, and honours --pii and --no-pii', async () => {
    const input = path.join(inputs.dir, 'more.csv');
    await writeFile(input, 'id,username,insta,name,notes\nu000010,@carl,@carl.cam,Carl,likes cats\n');
    const dropped = await importFile(store, {
      kind: 'profiles',
      file: input,
      now: NOW,
      pii: { mode: 'drop' },
    });
    const carl = () => store.data.profiles.find((p) => p.id === 'u000010');
    expect(carl()?.attrs).not.toHaveProperty('username');
    expect(carl()?.attrs).not.toHaveProperty('name');
    expect(dropped.ignoredColumns.map((c) => c.column)).toEqual(expect.arrayContaining(['username', 'name']));
    const chosen = await importFile(store, {
      kind: 'profiles',
      file: input,
      now: NOW,
      pii: { pseudonymizer: pseudonymizerFor(config), columns: ['insta'], notColumns: ['name'] },
    });
    expect(chosen.piiColumns.map((c) => c.column)).toEqual(['username', 'insta']);
    expect(isPseudonym(carl()?.attrs.insta)).toBe(true);
    expect(carl()?.attrs.name).toBe('Carl');
    await expect(
      importFile(store, {
        kind: 'profiles',
        file: input,
        now: NOW,
        pii: { mode: 'drop', columns: ['instagramm'] },
      }),
    ).rejects.toThrow(ImportError);
  });

  it('generates the key beside the data file on first use, owner-only, and reuses it', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      const options = { pseudonymKey: null, dataFile: path.join(other, 'audience.db') };
      const notices: string[] = [];
      const first = loadPseudonymKey(options, (m) => notices.push(m));
      expect(first.source).toBe('generated');
      expect((await stat(pseudonymKeyFile(options.dataFile))).mode & 0o777).toBe(0o600);
      expect(loadPseudonymKey(options)).toEqual({ secret: first.secret, source: 'file' });
      expect(notices.join(' ')).not.toContain(first.secret);
    } finally {
      await done();
    }
  });
});
