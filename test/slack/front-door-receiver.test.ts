import type { App, ReceiverEvent } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { FrontDoorReceiver } from '../../src/slack/front-door-receiver.ts';
import { MAX_REQUEST_BODY_BYTES } from '../../src/slack/verified-receiver.ts';
import { buttonPress, postSigned, signatureHeaders, slashCommand } from '../support/signed-request.ts';

const SECRET = 'front-door-secret';

describe('the front door (worker-thread receiver)', () => {
  const events: ReceiverEvent[] = [];
  const logs: string[] = [];
  let behaviour: (event: ReceiverEvent) => Promise<void> = async () => undefined;
  const receiver = new FrontDoorReceiver({
    signingSecret: SECRET,
    logger: createLogger('info', (line) => logs.push(line)),
    health: () => ({ status: 200, body: { status: 'ok', data: { dataVersion: 3 } } }),
    ackTimeoutMs: 300,
    onLateAck: (body, response) => late.push({ body, response }),
  });
  const late: Array<{ body: Record<string, unknown>; response: unknown }> = [];
  let baseUrl = '';

  beforeAll(async () => {
    // Bolt's App, reduced to the one method a receiver calls.
    receiver.init({
      processEvent: async (event: ReceiverEvent) => {
        events.push(event);
        await behaviour(event);
      },
    } as unknown as App);
    const { port } = await receiver.start({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('acknowledges a slash command without waiting for Bolt, then hands it over', async () => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    // Bolt is busy (engine work) and never acks: the command is acknowledged anyway.
    behaviour = () => stuck;
    const res = await postSigned(baseUrl, slashCommand({ text: 'stats', responseUrl: 'http://x/r' }), {
      secret: SECRET,
    });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]?.body).toMatchObject({ command: '/audience', text: 'stats' });
    release();
  });

  it('acknowledges button presses at once too', async () => {
    behaviour = () => new Promise<void>(() => undefined);
    const res = await postSigned(
      baseUrl,
      buttonPress({ actionId: 'share_reply', value: 'stats', responseUrl: 'u' }),
      {
        secret: SECRET,
      },
    );
    expect(res.status).toBe(200);
    await expect.poll(() => events.at(-1)?.body.type).toBe('block_actions');
  });

  it("lets Bolt answer a modal submission through its ack, and answers empty if Bolt doesn't in time", async () => {
    const submission = (id: string) => ({
      payload: JSON.stringify({
        type: 'view_submission',
        view: { id },
        user: { id: 'U1' },
        team: { id: 'T1' },
      }),
    });
    behaviour = async (event) => {
      await event.ack({ response_action: 'errors', errors: { name: 'Too short' } });
    };
    const answered = await postSigned(baseUrl, submission('V1'), { secret: SECRET });
    expect(JSON.parse(answered.text)).toEqual({ response_action: 'errors', errors: { name: 'Too short' } });

    behaviour = () => new Promise<void>(() => undefined);
    const slow = await postSigned(baseUrl, submission('V2'), { secret: SECRET });
    expect(slow.status).toBe(200);
    expect(slow.text).toBe('');
    expect(late).toEqual([]);
  });

  it('reports an answer Bolt gave after the deadline, with the request it belonged to', async () => {
    behaviour = async (event) => {
      await new Promise((r) => setTimeout(r, 500));
      await event.ack({ response_action: 'errors', errors: { time: 'Not a time' } });
    };
    const body = { type: 'view_submission', view: { id: 'V3' }, user: { id: 'U7' }, team: { id: 'T1' } };
    const res = await postSigned(baseUrl, { payload: JSON.stringify(body) }, { secret: SECRET });
    expect(res.text).toBe('');
    await expect.poll(() => late.length).toBe(1);
    expect(late[0]).toEqual({
      body: expect.objectContaining({ user: { id: 'U7' } }),
      response: { response_action: 'errors', errors: { time: 'Not a time' } },
    });
  });

  it('rejects bad signatures, stale and future timestamps with 401 and hands nothing over', async () => {
    const before = events.length;
    const form = slashCommand({ text: 'stats', responseUrl: 'u' });
    const now = Math.floor(Date.now() / 1000);
    const results = await Promise.all([
      postSigned(baseUrl, form, { secret: 'wrong' }),
      postSigned(baseUrl, form, { secret: SECRET, signature: 'v0=abc' }),
      postSigned(baseUrl, form, { secret: SECRET, signature: '' }),
      postSigned(baseUrl, form, { secret: SECRET, timestamp: now - 400 }),
      postSigned(baseUrl, form, { secret: SECRET, timestamp: now + 400 }),
    ]);
    expect(results.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    // A valid request afterwards is the first one handed over.
    behaviour = async () => undefined;
    await postSigned(baseUrl, slashCommand({ text: 'help', responseUrl: 'u' }), { secret: SECRET });
    await expect.poll(() => events.length).toBe(before + 1);
    expect(events.at(-1)?.body.text).toBe('help');
    expect(logs.filter((l) => l.includes('rejected a request'))).toHaveLength(5);
  });

  it('answers url_verification and ssl_check itself', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 't' });
    const res = await fetch(`${baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...signatureHeaders(SECRET, body) },
      body,
    });
    expect(await res.json()).toEqual({ challenge: 'abc123' });
    const ssl = await postSigned(baseUrl, { ssl_check: '1', token: 't' }, { secret: SECRET });
    expect(ssl.status).toBe(200);
  });

  it('serves /healthz from the health the main thread reports', async () => {
    const res = await fetch(`${baseUrl}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', data: { dataVersion: 3 } });
    expect(typeof body.snapshotAgeMs).toBe('number');
    expect((await fetch(`${baseUrl}/nope`)).status).toBe(404);
  });
});

describe("the front door with the app's 1 MB body limit", () => {
  const handedOver: ReceiverEvent[] = [];
  const receiver = new FrontDoorReceiver({
    signingSecret: SECRET,
    logger: createLogger('error', () => undefined),
    health: () => ({ status: 200, body: { status: 'ok' } }),
    bodyLimit: MAX_REQUEST_BODY_BYTES,
  });
  let url = '';

  beforeAll(async () => {
    receiver.init({
      processEvent: async (event: ReceiverEvent) => void handedOver.push(event),
    } as unknown as App);
    const { port } = await receiver.start({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${port}/slack/events`;
  });
  afterAll(async () => {
    await receiver.stop();
  });

  const oversized = () => `text=${'a'.repeat(MAX_REQUEST_BODY_BYTES + 10)}`;

  it('answers a signed body over 1 MB with 413 (as docs/PRIVACY.md says), not a reset connection', async () => {
    const body = oversized();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signatureHeaders(SECRET, body) },
      body,
    });
    expect(res.status).toBe(413);
    expect(handedOver).toEqual([]);
  });

  it('answers 413 too when the body comes without a length (chunked)', async () => {
    const body = Buffer.from(oversized());
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < body.length; i += 64 * 1024) controller.enqueue(body.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        ...signatureHeaders(SECRET, body.toString()),
      },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(handedOver).toEqual([]);
  });
});
