import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import { parseCommand } from '../../commands/parse.ts';
import type { Router } from '../../commands/router.ts';
import type { AppConfig } from '../../src/config.ts';
import { canManage, digestPolicy } from '../../src/digest/permissions.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import type { DigestSchedule } from '../../src/domain/types.ts';
import { formatAudit, parseSince } from '../../src/privacy/audit.ts';
import { actsAsAdmin, describeArgs, isAdmin } from '../../src/privacy/roles.ts';
import type { Store } from '../../src/store/store.ts';
import { NOW, sampleStore, tempDir, testConfig, visible } from './helpers.ts';

const ADMIN: Invocation = { userId: 'U0ADMIN01', channelId: 'C0ALLOWED', surface: 'slack' };
const MEMBER: Invocation = { userId: 'U0MEMBER1', channelId: 'C0ALLOWED', surface: 'slack' };

let cleanup: () => Promise<void>;
let config: AppConfig;
let store: Store;
let router: Router;

beforeAll(async () => {
  const temp = await tempDir();
  cleanup = temp.cleanup;
  config = testConfig(temp.dir, { ADMIN_USER_IDS: 'U0ADMIN01, U0ADMIN02', ALLOWED_CHANNEL_IDS: 'C0ALLOWED' });
  store = await sampleStore(config, { profiles: 200 });
  router = registerCommands({ store, clock: () => NOW, config }, (error) => {
    throw error;
  });
});

afterAll(async () => {
  await store.close();
  await cleanup();
});

describe('roles', () => {
  it('knows admins from ADMIN_USER_IDS; the CLI and the console act as admins', () => {
    expect(config.adminUserIds).toEqual(['U0ADMIN01', 'U0ADMIN02']);
    expect(isAdmin(config, 'U0ADMIN02')).toBe(true);
    expect(isAdmin(config, 'U0MEMBER1')).toBe(false);
    expect(actsAsAdmin(config, { userId: 'cli', surface: 'cli' })).toBe(true);
    expect(actsAsAdmin(config, { userId: 'local-user', surface: 'console' })).toBe(true);
    expect(actsAsAdmin(config, MEMBER)).toBe(false);
  });

  it('refuses forget, import and export to non-admins, saying why and whom to ask', async () => {
    for (const line of ['forget u000001', 'import', 'export segments']) {
      const reply = await router.dispatch(line, MEMBER);
      expect(reply.data, line).toHaveProperty('error');
      expect(reply.text, line).toMatch(
        /^Only Audience Insights admins can run \/audience \w+, because .+; ask one of the admins/,
      );
      expect(reply.text).toContain('<@U0ADMIN01>');
    }
    expect(store.data.profiles.some((p) => p.id === 'u000001')).toBe(true);
    // Aggregate answers stay open to everyone.
    expect((await router.dispatch('stats', MEMBER)).data).not.toHaveProperty('error');
  });

  it('lets admins run them and audits what they did, without personal data', async () => {
    const help = await router.dispatch('import', ADMIN);
    expect(help.text).toContain('audience import profiles FILE');
    await router.dispatch('segments k=3', ADMIN);
    const exported = await router.dispatch('export segments', ADMIN);
    expect(exported.data).toMatchObject({ perPerson: true });
    const actions = store.data.audit.map((a) => [a.actor, a.action, a.detail]);
    expect(actions).toContainEqual(['U0ADMIN01', 'export', 'export segments']);
    // Reading how to import is no import: the CLI audits imports when they run.
    expect(actions.filter(([, action]) => action === 'import')).toEqual([]);
    expect(describeArgs(parseCommand('predict user=@jane where=email:x@y.z n=3'))).toBe(
      'predict user=[value] where=[value] n=3',
    );
  });

  it("refuses to manage another person's digest unless an admin", () => {
    const schedule = { owner_id: 'U0OWNER01' } as Pick<DigestSchedule, 'owner_id'>;
    const policy = digestPolicy(config);
    expect(canManage(schedule, MEMBER, policy)).toBe(false);
    expect(canManage(schedule, { userId: 'U0OWNER01', surface: 'slack' }, policy)).toBe(true);
    expect(canManage(schedule, ADMIN, policy)).toBe(true);
    expect(canManage(schedule, { userId: 'cli', surface: 'cli' }, policy)).toBe(true);
  });

  it('answers only in ALLOWED_CHANNEL_IDS (and direct messages), politely elsewhere', async () => {
    const elsewhere = await router.dispatch('stats', { ...MEMBER, channelId: 'C0OTHER01' });
    expect(elsewhere.text).toContain('not enabled in this channel');
    expect(visible(elsewhere)).toContain('<#C0ALLOWED>');
    expect((await router.dispatch('stats', { ...MEMBER, channelId: 'D0DIRECT1' })).data).not.toHaveProperty(
      'error',
    );
    expect(
      (await router.dispatch('stats', { ...MEMBER, surface: 'cli', channelId: null })).data,
    ).not.toHaveProperty('error');
  });
});

describe('audit log', () => {
  it('prints entries since a duration or date, oldest first', () => {
    const now = NOW.getTime();
    expect(parseSince('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseSince('24h', now)).toBe(now - 86_400_000);
    expect(parseSince('2026-05-01', now)).toBe(Date.parse('2026-05-01'));
    expect(() => parseSince('last week', now)).toThrow(/use a duration such as 7d/);
    const entries = [
      { at: now - 10 * 86_400_000, actor: 'cli', action: 'import', detail: 'profiles from a.csv: 3 new' },
      {
        at: now - 86_400_000,
        actor: 'U0ADMIN01',
        action: 'forget',
        detail: '1 person matched by id: removed …',
      },
    ];
    const week = formatAudit(entries, parseSince('7d', now));
    expect(week.split('\n')).toEqual([
      '2026-05-31T09:00:00Z  U0ADMIN01  forget  1 person matched by id: removed …',
    ]);
    expect(formatAudit(entries, null).split('\n')).toHaveLength(2);
    expect(formatAudit([], null)).toBe('The audit log is empty.');
  });
});
