import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';

// The stand-in must behave like Slack for the real Web API client, or the app tests prove nothing.
describe('the Slack stand-in', () => {
  let standIn: SlackStandIn;
  let client: webApi.WebClient;

  beforeAll(async () => {
    standIn = await startSlackStandIn();
    client = new webApi.WebClient('xoxb-stand-in', {
      slackApiUrl: standIn.apiUrl,
      retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 5 },
    });
  });
  afterAll(async () => {
    await standIn.close();
  });

  it('uploads a file the way filesUploadV2 does (get URL, upload, complete)', async () => {
    standIn.addChannel({ id: 'C0FILES01', name: 'exports', member: true });
    const result = await client.filesUploadV2({
      channel_id: 'C0FILES01',
      filename: 'audience.csv',
      title: 'Audience export',
      content: 'id,country\nu1,DE\n',
    });
    expect(result.ok).toBe(true);
    expect(standIn.calls.map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
    // The content goes as multipart form data, so the upload is the 18 bytes plus the form's framing.
    expect(Number(standIn.callsTo('upload')[0]?.body.bytes)).toBeGreaterThan(18);
  });

  it('answers users.info, auth.test and conversations.info, and records the token header', async () => {
    standIn.addChannel({ id: 'G0SECRET1', name: 'board', is_private: true, member: false });
    expect((await client.users.info({ user: 'U1' })).user?.tz).toBe('Europe/Berlin');
    expect((await client.auth.test()).user_id).toBe('UBOT0001');
    await expect(client.conversations.info({ channel: 'G0SECRET1' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect(standIn.callsTo('auth.test')[0]?.headers.authorization).toBe('Bearer xoxb-stand-in');
  });

  it('injects faults: an error, an HTTP status, a rate limit', async () => {
    standIn.addChannel({ id: 'C0FAULT01', name: 'faults', member: true });
    standIn.failNext('chat.postMessage', { kind: 'error', error: 'msg_too_long' });
    await expect(client.chat.postMessage({ channel: 'C0FAULT01', text: 'x' })).rejects.toMatchObject({
      data: { error: 'msg_too_long' },
    });
    standIn.failNext('chat.postMessage', { kind: 'http', status: 500 }, 2);
    await expect(client.chat.postMessage({ channel: 'C0FAULT01', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_http_error',
    });
    const rejecting = new webApi.WebClient('xoxb-stand-in', {
      slackApiUrl: standIn.apiUrl,
      rejectRateLimitedCalls: true,
    });
    standIn.failNext('chat.postMessage', { kind: 'ratelimited', retryAfter: 7 });
    await expect(rejecting.chat.postMessage({ channel: 'C0FAULT01', text: 'x' })).rejects.toMatchObject({
      retryAfter: 7,
    });
    expect((await client.chat.postMessage({ channel: 'C0FAULT01', text: 'ok' })).ok).toBe(true);
  });

  it('records Block Kit violations in any payload', async () => {
    standIn.addChannel({ id: 'C0LIMITS1', name: 'limits', member: true });
    standIn.violations.length = 0;
    await client.chat.postMessage({
      channel: 'C0LIMITS1',
      text: 'hello <!channel>',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
    });
    expect(standIn.violations).toHaveLength(2);
    expect(standIn.violations.join('\n')).toMatch(/text too long[\s\S]*broadcast mention/);
  });
});
