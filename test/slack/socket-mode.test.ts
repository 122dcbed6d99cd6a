/**
 * Socket Mode through the front door: the worker thread holds the socket and acknowledges commands, buttons
 * and events without waiting for the main thread; modal submissions carry Bolt's own answer back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, ReceiverEvent } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { generateSample } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { createSlackApp, type SlackApp } from '../../src/slack/create-app.ts';
import { FrontDoorReceiver } from '../../src/slack/front-door-receiver.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { buttonPress, slashCommand } from '../support/signed-request.ts';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';
import { blockText } from '../support/test-app.ts';

describe('the Socket Mode front door (worker-thread socket)', () => {
  let standIn: SlackStandIn;
  const events: ReceiverEvent[] = [];
  let behaviour: (event: ReceiverEvent) => Promise<void> = async () => undefined;
  let receiver: FrontDoorReceiver;

  beforeAll(async () => {
    standIn = await startSlackStandIn();
    receiver = new FrontDoorReceiver({
      signingSecret: '',
      socket: { appToken: 'xapp-test', apiUrl: standIn.apiUrl },
      logger: createLogger('error', () => undefined),
      health: () => ({ status: 200, body: { status: 'ok' } }),
      ackTimeoutMs: 300,
    });
    receiver.init({
      processEvent: async (event: ReceiverEvent) => {
        events.push(event);
        await behaviour(event);
      },
    } as unknown as App);
    await receiver.start({ port: 0, host: '127.0.0.1' });
    await standIn.socket.connected();
  });
  afterAll(async () => {
    await receiver.stop();
    await standIn.close();
  });

  it('acknowledges a slash command over the socket while Bolt is still busy, then hands it over', async () => {
    // Bolt is busy (engine work) and never acks: the command is acknowledged anyway.
    behaviour = () => new Promise<void>(() => undefined);
    const id = standIn.socket.send(
      'slash_commands',
      slashCommand({ text: 'stats', responseUrl: 'http://x/r' }),
    );
    const ack = await standIn.socket.waitForAck(id);
    expect(ack.payload).toEqual({});
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]?.body).toMatchObject({ command: '/audience', text: 'stats' });
  });

  it('acknowledges button presses at once too', async () => {
    const press = JSON.parse(
      buttonPress({ actionId: 'share_reply', value: 'stats', responseUrl: 'u' }).payload ?? '{}',
    ) as Record<string, unknown>;
    const id = standIn.socket.send('interactive', press);
    await standIn.socket.waitForAck(id);
    await expect.poll(() => events.at(-1)?.body.type).toBe('block_actions');
  });

  it("sends Bolt's answer to a modal submission back over the socket", async () => {
    behaviour = async (event) => {
      await event.ack({ response_action: 'errors', errors: { name: 'Too short' } });
    };
    const submission = {
      type: 'view_submission',
      view: { id: 'V1' },
      user: { id: 'U1' },
      team: { id: 'T1' },
    };
    const id = standIn.socket.send('interactive', submission);
    const ack = await standIn.socket.waitForAck(id);
    expect(ack.payload).toEqual({ response_action: 'errors', errors: { name: 'Too short' } });
  });
});

describe('the app in Socket Mode', () => {
  let standIn: SlackStandIn;
  let store: Store;
  let slack: SlackApp;
  let dir: string;

  beforeAll(async () => {
    standIn = await startSlackStandIn();
    dir = await mkdtemp(join(tmpdir(), 'audience-socket-'));
    const file = join(dir, 'audience.db');
    const now = new Date('2026-06-01T00:00:00Z');
    store = await openStore({ file, flushDelayMs: 20, onNotice: () => undefined });
    await storeSample(store, generateSample({ profiles: 200, seed: 7, end: now }), now);
    const config = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_APP_TOKEN: 'xapp-test-token',
      SLACK_API_URL: standIn.apiUrl,
      DATA_FILE: file,
    });
    const logger = createLogger('error', () => undefined);
    const clock = () => new Date(now);
    const router = registerCommands({ store, clock, config }, () => undefined);
    slack = createSlackApp({ config, router, store, clock, logger, requestTimeoutMs: 5000 });
    await slack.start({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await slack.stop(2000);
    await store.close();
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges /audience over the socket and answers through the response_url', async () => {
    const form = slashCommand({ text: 'help', responseUrl: standIn.responseUrl('sock1') });
    const id = standIn.socket.send('slash_commands', form);
    expect((await standIn.socket.waitForAck(id)).payload).toEqual({});
    const reply = await standIn.waitFor((c) => c.method === 'response_url' && c.path === '/response/sock1');
    expect(blockText(reply.body.blocks)).toContain('*stats*');
  });
});
