import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../../src/config.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { importFile } from '../../src/import/importer.ts';
import { pseudonymizerFor } from '../../src/privacy/pseudonym.ts';
import type { FileStore } from '../../src/store/store.ts';
import {
  filesContaining,
  NOW,
  pseudonymsOf,
  sampleStore,
  tempDir,
  testConfig,
  visible,
} from '../privacy/helpers.ts';

const CLI: Invocation = { userId: 'cli', channelId: null, surface: 'cli' };
const ADMIN: Invocation = { userId: 'U0ADMIN01', channelId: 'C0001', surface: 'slack' };
const MEMBER: Invocation = { userId: 'U0MEMBER1', channelId: 'C0001', surface: 'slack' };
const ERIN = 'u000007';

let dir: string;
let cleanup: () => Promise<void>;
let inputs: { dir: string; cleanup: () => Promise<void> };
let config: AppConfig;
let store: FileStore;
let router: Router;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('audience-forget-'));
  inputs = await tempDir('audience-forget-inputs-');
  config = testConfig(dir, { ADMIN_USER_IDS: ADMIN.userId });
  store = await sampleStore(config, { profiles: 400, seed: 11 });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => {
    throw error;
  });
  const csv = path.join(inputs.dir, 'handles.csv');
  await writeFile(
    csv,
    `id,handle,email\n${ERIN},@erin_e,erin@example.net\nu000008,@frank_f,frank@example.net\n`,
  );
  await importFile(store, {
    kind: 'profiles',
    file: csv,
    now: NOW,
    pii: { pseudonymizer: pseudonymizerFor(config) },
  });
  // Fill every place a person can be: segment runs, cached models (segments, predictions, recommendations).
  for (const line of [
    'segments k=4',
    'predict',
    `predict user=${ERIN}`,
    'recommend user=@erin_e',
    'recommend segment=1',
  ]) {
    expect((await router.dispatch(line, CLI)).data).not.toHaveProperty('error');
  }
  await store.flush();
  // The data and its backup hold Erin before she is forgotten.
  expect(await filesContaining(dir, ERIN)).toEqual(['audience.db', 'audience.db.bak']);
});

afterAll(async () => {
  await store.close();
  await cleanup();
  await inputs.cleanup();
});

describe('/audience forget', () => {
  it('refuses people who are not admins, saying why, and changes nothing', async () => {
    const version = store.data.meta.dataVersion;
    const reply = await router.dispatch('forget @frank_f', MEMBER);
    expect(reply.text).toMatch(/Only Audience Insights admins can run \/audience forget, because/);
    expect(reply.text).toContain('<@U0ADMIN01>');
    expect(store.data.meta.dataVersion).toBe(version);
    expect(store.data.profiles.some((p) => p.id === 'u000008')).toBe(true);
  });

  it('removes every trace of the person from the data file and its backup, and says what it removed', async () => {
    const pseudonyms = pseudonymsOf(store.data.profiles, new Set([ERIN]));
    expect(pseudonyms).toHaveLength(2);
    const interactions = store.data.interactions.filter((i) => i.user_id === ERIN).length;
    expect(interactions).toBeGreaterThan(0);

    const reply = await router.dispatch('forget @Erin_E', ADMIN);
    expect(reply.data).toMatchObject({
      forgotten: 1,
      matchedBy: 'handle',
      perPerson: true,
      removed: { profiles: 1, interactions, segmentAssignments: expect.any(Number) },
    });
    expect(reply.text).toMatch(/Forgot 1 person \(matched by handle\): removed 1 profile, \d+ interactions/);
    for (const secret of [ERIN, 'erin_e', 'erin@example.net', ...pseudonyms]) {
      expect(visible(reply).toLowerCase()).not.toContain(secret.toLowerCase());
    }

    await store.flush();
    expect((await readdir(dir)).sort()).toEqual(['audience.db', 'audience.db.bak', 'audience.db.lock']);
    for (const needle of [ERIN, ...pseudonyms]) expect(await filesContaining(dir, needle)).toEqual([]);
    expect(JSON.stringify(store.data)).not.toContain(ERIN);
    for (const run of store.data.segmentRuns) {
      expect(run.sizes.reduce((a, b) => a + b, 0)).toBe(run.user_ids.length);
      expect(run.labels).toHaveLength(run.user_ids.length);
    }
    expect(Object.keys(store.data.models)).toEqual([]);
    const entry = store.data.audit.at(-1);
    expect(entry).toMatchObject({ actor: ADMIN.userId, action: 'forget' });
    expect(entry?.detail).toMatch(/^1 person matched by handle: removed 1 profile/);
    expect(entry?.detail).not.toContain(ERIN);
  });

  it('still answers afterwards: models refit without the person', async () => {
    const reply = await router.dispatch('recommend segment=1', CLI);
    expect(reply.data).not.toHaveProperty('error');
    expect((await router.dispatch(`predict user=${ERIN}`, CLI)).text).toMatch(/unknown user/);
  });

  it('works from the CLI by id, and says so when there is no one to forget', async () => {
    const reply = await router.dispatch('forget u000008', CLI);
    expect(reply.data).toMatchObject({ forgotten: 1, matchedBy: 'id' });
    expect(store.data.audit.at(-1)?.actor).toBe('cli');
    const none = await router.dispatch('forget @nobody_at_all', CLI);
    expect(none.text).toMatch(/no profile has that handle.*Nothing was removed/);
    expect(visible(none)).not.toContain('nobody_at_all');
    expect((await router.dispatch('forget', CLI)).text).toMatch(/say whom to forget/);
  });
});
