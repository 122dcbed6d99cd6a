/**
 * Digests through the real Bolt app over HTTP (signed requests) against the Web API stand-in: the text
 * forms as slash commands, the modal (open, invalid and valid submission), the Pause button, and the App
 * Home with its Retry button.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { DigestScheduler } from '../../src/digest/scheduler.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/create-app.ts';
import { postEvent, postSigned, slashCommand } from '../support/signed-request.ts';
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';
import { blockText } from '../support/test-app.ts';
import { captureLogger, fakeClock, sampleStore, testScheduler } from './helpers.ts';

const SECRET = 'digest-test-signing-secret-0123456789';
const OWNER = 'U0OWNER01';
const OTHER = 'U0OTHER01';
// Monday 1 June 2026, 10:00 UTC (12:00 in Berlin).
const clock = fakeClock('2026-06-01T10:00:00Z');

let standIn: SlackStandIn;
let env: Awaited<ReturnType<typeof sampleStore>>;
let scheduler: DigestScheduler;
let slack: SlackApp;
let baseUrl: string;
let counter = 0;
let blockMainThreadMs = 0;

beforeAll(async () => {
  standIn = await startSlackStandIn();
  env = await sampleStore();
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: standIn.apiUrl,
    DATA_FILE: env.file,
  });
  const { logger } = captureLogger();
  scheduler = testScheduler({ store: env.store, clock, logger, standIn });
  await scheduler.start();
  const router = registerCommands({ store: env.store, clock, config, digests: scheduler }, (error) =>
    logger.error('command failed', { error }),
  );
  slack = createSlackApp({
    config,
    router,
    store: env.store,
    clock,
    logger,
    retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 20 },
    requestTimeoutMs: 5000,
    homeRefreshMs: 3_600_000,
    formAckTimeoutMs: 1000,
  });
  // Stands in for engine work that holds the main thread while a form is submitted (see the late-form test).
  slack.bolt.use(async ({ body, next }) => {
    if (blockMainThreadMs > 0 && (body as { type?: string }).type === 'view_submission') {
      const until = Date.now() + blockMainThreadMs;
      while (Date.now() < until) {
        // busy: nothing else runs on this thread
      }
    }
    await next();
  });
  const { port } = await slack.start({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await slack.stop(2000);
  await scheduler.stop();
  await env.cleanup();
  await standIn.close();
});
beforeEach(() => {
  standIn.addChannel({ id: 'C0GROWTH1', name: 'growth', member: true });
});
afterEach(() => {
  expect(standIn.violations).toEqual([]);
});

async function command(text: string, userId = OWNER): Promise<{ status: number; reply: RecordedCall }> {
  const id = `d${++counter}`;
  const form = slashCommand({ text, responseUrl: standIn.responseUrl(id), userId, channelId: 'C0GROWTH1' });
  const ack = await postSigned(baseUrl, form, { secret: SECRET });
  const reply = await standIn.waitFor(
    (c) =>
      c.method === 'response_url' &&
      c.path === `/response/${id}` &&
      !String(c.body.text).startsWith('Working on it'),
  );
  return { status: ack.status, reply };
}

function viewSubmission(values: Record<string, Record<string, unknown>>, metadata: string, userId = OWNER) {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0000001', domain: 'stand-in' },
    user: { id: userId, username: 'marketer', team_id: 'T0000001' },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    trigger_id: '1000.2000.abc',
    view: {
      id: 'V0001',
      type: 'modal',
      callback_id: 'digest_create',
      private_metadata: metadata,
      state: { values },
      hash: 'h',
    },
  };
  return postSigned(baseUrl, { payload: JSON.stringify(payload) }, { secret: SECRET });
}

const field = (block: string, value: Record<string, unknown>) => ({ [block]: { value } });
const formValues = (overrides: Record<string, Record<string, unknown>> = {}) => ({
  ...field('channel', { type: 'conversations_select', selected_conversation: 'C0GROWTH1' }),
  ...field('cadence', { type: 'static_select', selected_option: { value: 'weekly' } }),
  ...field('weekdays', { type: 'checkboxes', selected_options: [{ value: '1' }, { value: '4' }] }),
  ...field('time', { type: 'timepicker', selected_time: '09:30' }),
  ...field('zone', { type: 'plain_text_input', value: 'Europe/Berlin' }),
  ...field('content', { type: 'checkboxes', selected_options: [{ value: 'predictions' }] }),
  ...field('k', { type: 'static_select', selected_option: { value: '4' } }),
  ...overrides,
});

describe('digests in Slack', () => {
  it('manages a digest with the text forms as signed slash commands', async () => {
    const added = await command('digest add <#C0GROWTH1|growth> weekly mon 09:00 Europe/Berlin');
    expect(added.status).toBe(200);
    expect(blockText(added.reply.body.blocks)).toContain(
      'Digest *sch_1* set up: weekly Mon at 09:00 Europe/Berlin, to <#C0GROWTH1>.',
    );
    expect(blockText(added.reply.body.blocks)).toContain('• Mon 8 Jun 2026, 09:00 GMT+2');
    // Management answers are never shareable (a Share would run `digest add` again).
    expect(JSON.stringify(added.reply.body.blocks)).not.toContain('share_reply');

    const list = await command('digest list', OTHER);
    expect(blockText(list.reply.body.blocks)).toContain(
      '*sch_1* <#C0GROWTH1>: weekly Mon at 09:00 Europe/Berlin · next Mon 8 Jun 2026, 09:00 GMT+2',
    );

    const preview = await command('digest preview sch_1', OTHER);
    expect(blockText(preview.reply.body.blocks)).toContain('Preview, only visible to you');

    const refused = await command('digest pause sch_1', OTHER);
    expect(refused.reply.body.text).toContain('only the owner of sch_1');
    expect((await command('digest pause sch_1')).reply.body.text).toContain('is paused');
    expect((await command('digest resume sch_1')).reply.body.text).toContain('resumed');

    const run = await command('digest run sch_1');
    expect(run.reply.body.text).toContain('Digest sent to <#C0GROWTH1>');
    const posted = standIn.callsTo('chat.postMessage').filter((c) => c.body.channel === 'C0GROWTH1');
    expect(posted).toHaveLength(1);
    expect(blockText(posted[0]?.body.blocks)).toContain('Weekly audience digest');

    expect((await command('digest delete sch_1')).reply.body.text).toContain('deleted');
    expect(env.store.data.schedules).toHaveLength(0);
  });

  it("opens the modal for `/audience digest`, in the creator's time zone and channel", async () => {
    const form = slashCommand({
      text: 'digest',
      responseUrl: standIn.responseUrl('modal'),
      userId: OWNER,
      channelId: 'C0GROWTH1',
    });
    const ack = await postSigned(baseUrl, form, { secret: SECRET });
    expect(ack.status).toBe(200);
    const open = await standIn.waitFor((c) => c.method === 'views.open');
    expect(open.body.trigger_id).toBe('1000.2000.abc');
    expect(standIn.callsTo('users.info').map((c) => c.body.user)).toContain(OWNER);
    const view = open.body.view as {
      callback_id: string;
      private_metadata: string;
      blocks: Array<Record<string, unknown>>;
    };
    expect(view.callback_id).toBe('digest_create');
    const byId = Object.fromEntries(
      view.blocks.map((b) => [b.block_id, b.element as Record<string, unknown>]),
    );
    expect(byId.channel).toMatchObject({ type: 'conversations_select', initial_conversation: 'C0GROWTH1' });
    expect(byId.cadence).toMatchObject({ initial_option: { value: 'weekly' } });
    expect(byId.zone).toMatchObject({ type: 'plain_text_input', initial_value: 'Europe/Berlin' });
    expect(byId.time).toMatchObject({ type: 'timepicker', initial_time: '09:00' });
    expect(JSON.parse(view.private_metadata)).toMatchObject({ channelId: 'C0GROWTH1' });
  });

  it('answers invalid modal input with errors on the fields, and saves nothing', async () => {
    const before = env.store.data.schedules.length;
    const result = await viewSubmission(
      formValues({
        ...field('zone', { type: 'plain_text_input', value: 'Europe/Berln' }),
        ...field('cadence', { type: 'static_select', selected_option: { value: 'monthly' } }),
      }),
      '{}',
    );
    expect(result.status).toBe(200);
    const body = JSON.parse(result.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.zone).toMatch(
      /^"Europe\/Berln" is not a known time zone \(did you mean Europe\/Berlin\?\)/,
    );
    expect(body.errors.weekdays).toMatch(/monthly digest goes out on the first of one weekday/);
    expect(Object.keys(body.errors).sort()).toEqual(['weekdays', 'zone']);
    expect(env.store.data.schedules).toHaveLength(before);
  });

  it('tells the person in a direct message when the form was checked too late for Slack to show the errors', async () => {
    const before = env.store.data.schedules.length;
    const dms = standIn.callsTo('chat.postMessage').length;
    blockMainThreadMs = 1500;
    try {
      const result = await viewSubmission(
        formValues({ ...field('zone', { type: 'plain_text_input', value: 'Mars/Olympus' }) }),
        '{}',
      );
      // The front door answered empty at its deadline: Slack closed the form.
      expect(result.text).toBe('');
    } finally {
      blockMainThreadMs = 0;
    }
    const dm = await standIn.waitFor(
      (c) =>
        c.method === 'chat.postMessage' &&
        standIn.callsTo('chat.postMessage').indexOf(c) >= dms &&
        String(c.body.text).includes('nothing was saved'),
    );
    expect(blockText(dm.body.blocks)).toContain('"Mars/Olympus" is not a known time zone');
    expect(env.store.data.schedules).toHaveLength(before);
  });

  it('saves a valid modal submission for its creator and confirms where the command was typed', async () => {
    const metadata = JSON.stringify({
      responseUrl: standIn.responseUrl('from-modal'),
      channelId: 'C0GROWTH1',
    });
    const result = await viewSubmission(formValues(), metadata);
    expect(result.status).toBe(200);
    expect(result.text).toBe('');
    const confirmation = await standIn.waitFor(
      (c) => c.method === 'response_url' && c.path === '/response/from-modal',
    );
    expect(confirmation.body.response_type).toBe('ephemeral');
    expect(blockText(confirmation.body.blocks)).toContain(
      'weekly Mon, Thu at 09:30 Europe/Berlin, to <#C0GROWTH1>',
    );
    expect(blockText(confirmation.body.blocks)).toContain('• Thu 4 Jun 2026, 09:30 GMT+2');
    const saved = env.store.data.schedules.at(-1);
    expect(saved).toMatchObject({
      owner_id: OWNER,
      channel_id: 'C0GROWTH1',
      weekdays: [1, 4],
      local_time: '09:30',
      time_zone: 'Europe/Berlin',
      options: { predictions: true, recommendations: false, chart: false, k: 4 },
    });
  });

  it('Pause this digest: refused for others, done for the owner', async () => {
    const id = env.store.data.schedules.at(-1)?.id as string;
    const press = async (userId: string, responseId: string) => {
      const payload = {
        type: 'block_actions',
        team: { id: 'T0000001', domain: 'stand-in' },
        user: { id: userId, username: 'someone', team_id: 'T0000001' },
        api_app_id: 'A0000001',
        token: 'legacy-verification-token',
        container: {
          type: 'message',
          message_ts: '1780000000.000100',
          channel_id: 'C0GROWTH1',
          is_ephemeral: false,
        },
        trigger_id: '1000.2000.abc',
        channel: { id: 'C0GROWTH1', name: 'growth' },
        response_url: standIn.responseUrl(responseId),
        actions: [
          {
            type: 'button',
            action_id: 'digest_pause',
            block_id: 'digest_actions',
            value: id,
            action_ts: '1',
          },
        ],
      };
      await postSigned(baseUrl, { payload: JSON.stringify(payload) }, { secret: SECRET });
      return standIn.waitFor((c) => c.method === 'response_url' && c.path === `/response/${responseId}`);
    };
    const refused = await press(OTHER, 'pause-other');
    expect(refused.body.response_type).toBe('ephemeral');
    expect(refused.body.replace_original).toBe(false);
    expect(refused.body.text).toContain(`only the owner of ${id}`);
    expect(env.store.data.schedules.at(-1)?.paused).toBe(false);
    const done = await press(OWNER, 'pause-owner');
    expect(done.body.text).toContain('is paused');
    expect(env.store.data.schedules.at(-1)?.paused).toBe(true);
  });

  it('App Home lists schedules with next delivery and last status, and Retry re-sends a failed occurrence', async () => {
    env.store.update((d) => {
      d.schedules.push({
        id: 'sch_9',
        channel_id: 'C0GROWTH1',
        owner_id: OWNER,
        cadence: 'weekly',
        weekdays: [1],
        local_time: '09:00',
        time_zone: 'America/New_York',
        paused: false,
        last_error: 'http_500: Slack refused the message',
        created_at: Date.parse('2026-05-01T00:00:00Z'),
        options: { predictions: false, recommendations: false, k: 3, chart: false },
      });
      d.deliveries.push({
        key: 'sch_9:2026-05-25',
        schedule_id: 'sch_9',
        status: 'failed',
        at: Date.parse('2026-05-25T13:00:10Z'),
        detail: 'http_500: Slack refused the message',
      });
    });
    await postEvent(
      baseUrl,
      { type: 'app_home_opened', user: OWNER, channel: 'D0HOME', tab: 'home' },
      { secret: SECRET },
    );
    const publish = await standIn.waitFor(
      (c) => c.method === 'views.publish' && blockText(c.body.view).includes('sch_9'),
    );
    const home = blockText(publish.body.view);
    expect(home).toContain(
      '<#C0GROWTH1>: weekly Mon at 09:00 America/New_York · next Mon 1 Jun 2026, 09:00 EDT · last: failed Mon 25 May 2026, 09:00 EDT · :warning: last error: http_500: Slack refused the message',
    );
    const blocks = (
      publish.body.view as { blocks: Array<{ type: string; elements?: Array<Record<string, string>> }> }
    ).blocks;
    const retry = blocks.flatMap((b) => b.elements ?? []).find((e) => e.value === 'sch_9:2026-05-25');
    expect(retry?.action_id).toMatch(/^digest_retry:/);

    standIn.reset();
    const payload = {
      type: 'block_actions',
      team: { id: 'T0000001', domain: 'stand-in' },
      user: { id: OWNER, username: 'owner', team_id: 'T0000001' },
      api_app_id: 'A0000001',
      token: 'legacy-verification-token',
      container: { type: 'view', view_id: 'V123' },
      trigger_id: '1000.2000.abc',
      view: { id: 'V123', type: 'home' },
      actions: [
        {
          type: 'button',
          action_id: retry?.action_id,
          block_id: 'digest_retry',
          value: 'sch_9:2026-05-25',
          action_ts: '1',
        },
      ],
    };
    await postSigned(baseUrl, { payload: JSON.stringify(payload) }, { secret: SECRET });
    const repost = await standIn.waitFor(
      (c) => c.method === 'views.publish' && blockText(c.body.view).includes('last: delivered'),
    );
    expect(blockText(repost.body.view)).not.toContain('last error');
    const sent = standIn.callsTo('chat.postMessage').filter((c) => c.body.channel === 'C0GROWTH1');
    expect(sent).toHaveLength(1);
    expect(env.store.data.deliveries.find((d) => d.key === 'sch_9:2026-05-25')?.status).toBe('delivered');
  });
});
