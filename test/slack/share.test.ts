import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockText, startTestApp, type TestApp } from '../support/test-app.ts';

const MEMBER = 'C0MEMBER1';
const PUBLIC = 'C0PUBLIC1';
const PRIVATE = 'G0PRIVAT1';
const ARCHIVED = 'C0ARCHIV1';

describe('Share to channel', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(() => {
    app.standIn.reset();
    app.logs.length = 0;
    app.standIn.addChannel({ id: MEMBER, name: 'marketing', member: true });
    app.standIn.addChannel({ id: PUBLIC, name: 'growth', member: false });
    app.standIn.addChannel({ id: PRIVATE, name: 'leadership', is_private: true, member: false });
    app.standIn.addChannel({ id: ARCHIVED, name: 'old-campaign', is_archived: true, member: false });
  });
  afterEach(() => {
    expect(app.standIn.violations).toEqual([]);
  });

  const share = (channelId: string, value = 'stats') =>
    app.press({ actionId: 'share_reply', value, channelId, ephemeral: true });

  it('posts the same summary to a channel the bot is in, then removes the private copy', async () => {
    const { ack, responseId } = await share(MEMBER);
    expect(ack.status).toBe(200);
    const posted = await app.standIn.waitFor((c) => c.method === 'chat.postMessage');
    expect(posted.body.channel).toBe(MEMBER);
    const text = blockText(posted.body.blocks);
    expect(text).toContain('Audience at a glance');
    expect(text).toContain('Shared by <@U0000001>');
    expect(JSON.stringify(posted.body.blocks)).not.toContain('share_reply');
    const cleanup = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(cleanup.body).toEqual({ delete_original: true });
    expect(app.standIn.callsTo('conversations.join')).toEqual([]);
  });

  it('joins a public channel it is not in, and posts again', async () => {
    const { responseId } = await share(PUBLIC);
    await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    const methods = app.standIn.calls.filter((c) => c.method !== 'response_url').map((c) => c.method);
    expect(methods).toEqual([
      'chat.postMessage',
      'conversations.info',
      'conversations.join',
      'chat.postMessage',
    ]);
    expect(app.standIn.channel(PUBLIC)?.member).toBe(true);
    expect(app.standIn.callsTo('response_url', responseId)[0]?.body).toEqual({ delete_original: true });
  });

  it('asks to be invited to a private channel instead of failing silently', async () => {
    const { responseId } = await share(PRIVATE);
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(note.body.response_type).toBe('ephemeral');
    expect(note.body.replace_original).toBe(false);
    expect(blockText(note.body.blocks)).toContain('/invite @Audience Insights');
    expect(app.standIn.callsTo('conversations.join')).toEqual([]);
  });

  it('treats channel_not_found from Slack as "invite me"', async () => {
    app.standIn.failNext('chat.postMessage', { kind: 'error', error: 'channel_not_found' });
    app.standIn.failNext('conversations.info', { kind: 'error', error: 'channel_not_found' });
    const { responseId } = await share(MEMBER);
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(blockText(note.body.blocks)).toContain('/invite @Audience Insights');
    expect(app.logs.some((l) => l.startsWith('ERROR') || l.startsWith('WARN'))).toBe(false);
  });

  it('says so when the channel is archived', async () => {
    const { responseId } = await share(ARCHIVED);
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(blockText(note.body.blocks)).toContain('archived');
  });

  it('waits out a rate limit (429, Retry-After) and then posts', async () => {
    app.standIn.failNext('chat.postMessage', { kind: 'ratelimited', retryAfter: 1 });
    const { responseId } = await share(MEMBER);
    await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    const posts = app.standIn.callsTo('chat.postMessage');
    expect(posts).toHaveLength(2);
    expect(app.standIn.callsTo('response_url', responseId)[0]?.body).toEqual({ delete_original: true });
  });

  it('refuses to share an answer about one person', async () => {
    const { responseId } = await share(MEMBER, 'predict user=u000001');
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(blockText(note.body.blocks)).toContain('about one person');
    expect(app.standIn.callsTo('chat.postMessage')).toEqual([]);
  });

  it('refuses to share figures about fewer people than MIN_COHORT_SIZE', async () => {
    const { responseId } = await share(MEMBER, 'stats where=country:Nowhere');
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(blockText(note.body.blocks)).toContain('fewer than 10 people');
    expect(app.standIn.callsTo('chat.postMessage')).toEqual([]);
  });

  it('tells the user when Slack keeps failing, and logs it', async () => {
    app.standIn.failNext('chat.postMessage', { kind: 'error', error: 'fatal_error' });
    const { responseId } = await share(MEMBER);
    const note = await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    expect(blockText(note.body.blocks)).toContain('fatal_error');
    expect(
      app.logs.some((l) => l.includes('could not post a shared reply') && l.includes('fatal_error')),
    ).toBe(true);
  });
});
