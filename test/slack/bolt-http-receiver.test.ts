import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postSigned, slashCommand } from '../support/signed-request.ts';
import { blockText, SIGNING_SECRET, startTestApp, type TestApp } from '../support/test-app.ts';

// The same app on Bolt's own HTTPReceiver (receiver: 'bolt-http'), the alternative to the front door.
describe("/audience on Bolt's HTTPReceiver", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ slack: { receiver: 'bolt-http' } });
  });
  afterAll(async () => {
    await app?.stop();
  });
  afterEach(() => {
    expect(app.standIn.violations).toEqual([]);
  });

  it('acknowledges, then answers stats privately with a Share button', async () => {
    const release = app.standIn.holdResponses();
    let sent: Awaited<ReturnType<TestApp['command']>>;
    try {
      sent = await app.command('stats');
      expect(sent.ack.status).toBe(200);
    } finally {
      release();
    }
    const reply = await app.reply(sent.responseId);
    expect(blockText(reply.body.blocks)).toContain('Audience at a glance');
    expect(JSON.stringify(reply.body.blocks)).toContain('share_reply');
  });

  it('rejects a stale request with 401 and does no work', async () => {
    app.standIn.reset();
    const form = slashCommand({ text: 'stats', responseUrl: app.standIn.responseUrl('stale') });
    const res = await postSigned(app.baseUrl, form, {
      secret: SIGNING_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 360,
    });
    expect(res.status).toBe(401);
    const { responseId } = await app.command('help');
    await app.reply(responseId);
    expect(app.standIn.calls.map((c) => c.method)).toEqual(['response_url']);
  });

  it('serves /healthz through a custom route', async () => {
    const res = await fetch(new URL('/healthz', app.baseUrl));
    expect(await res.json()).toMatchObject({ status: 'ok', mode: 'http', data: { profiles: 500 } });
  });
});
