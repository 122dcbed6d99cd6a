/**
 * Platform connections through the real Bolt app over HTTP (signed requests) against the Web API stand-in:
 * `/audience connect` (a modal for admins, a refusal for others; the submission checked in the modal, then
 * answered privately), `/audience connections`, and the connections on App Home. No token ever in a reply.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRecord } from '../../src/domain/types.ts';
import { postSigned } from '../support/signed-request.ts';
import { blockText, SIGNING_SECRET, startTestApp, TEST_NOW, type TestApp } from '../support/test-app.ts';

const ADMIN = 'U0000001';
const MEMBER = 'U0MEMBER1';

const record = (id: string, fields: Partial<ConnectionRecord> = {}): ConnectionRecord => ({
  id,
  kind: 'instagram',
  owner_id: ADMIN,
  settings: { igUserId: '17841400000000001' },
  base_url: null,
  credentials: 'v1.c2VhbGVkLXNlY3JldC10b2tlbg==',
  created_at: TEST_NOW.getTime() - 86_400_000,
  interval_minutes: 60,
  cursor: '{"after":"x"}',
  paused: false,
  paused_reason: null,
  resume_at: null,
  last_sync_at: TEST_NOW.getTime() - 600_000,
  last_sync_status: 'ok',
  rows_added: 1234,
  total_rows: 5678,
  next_run_at: TEST_NOW.getTime() + 3_000_000,
  last_error: null,
  lease_holder: null,
  lease_until: null,
  ...fields,
});

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ profiles: 50, slack: { homeRefreshMs: 3_600_000 } });
});
afterAll(async () => {
  await app?.stop();
});
afterEach(() => {
  expect(app.standIn.violations).toEqual([]);
  app.standIn.reset();
});

function submit(values: Record<string, Record<string, unknown>>, userId = ADMIN, responseId = 'connect1') {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0000001', domain: 'stand-in' },
    user: { id: userId, username: 'marketer', team_id: 'T0000001' },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    trigger_id: '1000.2000.abc',
    view: {
      id: 'V0002',
      type: 'modal',
      callback_id: 'connector_connect',
      private_metadata: JSON.stringify({ responseUrl: app.standIn.responseUrl(responseId) }),
      state: { values },
      hash: 'h',
    },
  };
  return postSigned(app.baseUrl, { payload: JSON.stringify(payload) }, { secret: SIGNING_SECRET });
}

const value = (block: string, v: Record<string, unknown>) => ({ [block]: { value: v } });

describe('/audience connect', () => {
  it('refuses people who are not admins, saying who can', async () => {
    const { responseId } = await app.command('connect', { userId: MEMBER });
    const reply = await app.reply(responseId);
    expect(String(reply.body.text)).toMatch(/Only Audience Insights admins can run \/audience connect/);
    expect(app.standIn.callsTo('views.open')).toEqual([]);
  });

  it('opens the connect form for an admin, offering the platforms of this build', async () => {
    await app.command('connect', { userId: ADMIN });
    const open = await app.standIn.waitFor((c) => c.method === 'views.open');
    const view = open.body.view as { callback_id: string; blocks: Array<{ block_id?: string }> };
    expect(view.callback_id).toBe('connector_connect');
    expect(view.blocks.map((b) => b.block_id).filter(Boolean)).toEqual(['kind', 'name', 'source', 'token']);
    expect(JSON.stringify(view)).toContain('"value":"instagram"');
  });

  it('answers missing fields in the form and stores nothing', async () => {
    const res = await submit({
      ...value('kind', { type: 'static_select', selected_option: { value: 'instagram' } }),
      ...value('source', { type: 'plain_text_input', value: '' }),
      ...value('token', { type: 'plain_text_input', value: '' }),
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors).sort()).toEqual(['source', 'token']);
    expect(await app.store.connections.list()).toEqual([]);
  });

  it('without a data key, closes the form and says the token cannot be stored, never echoing it', async () => {
    const res = await submit({
      ...value('kind', { type: 'static_select', selected_option: { value: 'instagram' } }),
      ...value('source', { type: 'plain_text_input', value: '17841400000000001, page:104000000000001' }),
      ...value('token', { type: 'plain_text_input', value: 'EAAG-very-secret-token' }),
    });
    expect(res.status).toBe(200);
    const reply = await app.reply('connect1');
    expect(String(reply.body.text)).toContain('Not connected: Platform tokens are stored only encrypted');
    expect(JSON.stringify(reply.body)).not.toContain('very-secret');
    expect(app.logs.join('\n')).not.toContain('very-secret');
    expect(await app.store.connections.list()).toEqual([]);
  });

  it('refuses a submission from someone who is not an admin', async () => {
    await submit(
      {
        ...value('kind', { type: 'static_select', selected_option: { value: 'instagram' } }),
        ...value('source', { type: 'plain_text_input', value: '1784' }),
        ...value('token', { type: 'plain_text_input', value: 'tok' }),
      },
      MEMBER,
      'connect2',
    );
    const reply = await app.reply('connect2');
    expect(String(reply.body.text)).toMatch(/^Not connected: only Audience Insights admins/);
  });
});

describe('connections in Slack', () => {
  it('/audience connections shows last sync, rows added, next run and last error, never the token', async () => {
    await app.store.change(async (tx) => {
      await tx.putConnection(record('brand-ig'));
      await tx.putConnection(
        record('shop', {
          kind: 'shopify',
          paused: true,
          paused_reason: 'auth_expired',
          last_sync_status: 'paused',
          rows_added: 0,
          last_error: 'the access token was revoked',
        }),
      );
    });
    const { responseId } = await app.command('connections', { userId: MEMBER });
    const reply = await app.reply(responseId);
    const text = blockText(reply.body.blocks);
    expect(text).toContain('*brand-ig* · instagram · :white_check_mark: syncing');
    expect(text).toContain('1,234 rows added (5,678 in all)');
    expect(text).toContain('*shop* · shopify · :double_vertical_bar: paused (auth_expired)');
    expect(text).toContain('next run when reconnected');
    expect(text).toContain('Last error: the access token was revoked');
    expect(JSON.stringify(reply.body)).not.toContain('c2VhbGVk');
  });

  it('App Home lists the connections', async () => {
    await app.event({
      type: 'app_home_opened',
      user: 'U0HOMEC01',
      channel: 'D0HOME001',
      tab: 'home',
      event_ts: '1.2',
    });
    const publish = await app.standIn.waitFor((c) => c.method === 'views.publish');
    const text = blockText((publish.body.view as { blocks: unknown[] }).blocks);
    expect(text).toContain('Connected platforms');
    expect(text).toContain('*brand-ig* · instagram');
    expect(JSON.stringify(publish.body)).not.toContain('c2VhbGVk');
  });
});
