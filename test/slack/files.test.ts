import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.ts';

const MEMBER = 'C0MEMBER1';

describe('files that come with a reply', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(() => {
    app.standIn.reset();
    app.standIn.addChannel({ id: MEMBER, name: 'marketing', member: true });
  });

  const uploadFlow = () =>
    app.standIn.calls
      .map((c) => c.method)
      .filter((m) =>
        [
          'conversations.open',
          'files.getUploadURLExternal',
          'upload',
          'files.completeUploadExternal',
        ].includes(m),
      );

  it('sends the files of a private answer to the person’s DM, never to the channel', async () => {
    const { responseId } = await app.command('segments k=3', { channelId: MEMBER });
    await app.reply(responseId);
    const done = await app.standIn.waitFor((c) => c.method === 'files.completeUploadExternal');
    expect(uploadFlow()).toEqual([
      'conversations.open',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
    expect(app.standIn.callsTo('files.getUploadURLExternal')[0]?.body.filename).toBe('segment-map.png');
    expect(done.body.channel_id).not.toBe(MEMBER);
    expect(String(done.body.channel_id)).toMatch(/^D/);
  });

  it('puts the segment map in the thread of a shared segments reply', async () => {
    await app.press({ actionId: 'share_reply', value: 'segments k=3', channelId: MEMBER, ephemeral: true });
    const posted = await app.standIn.waitFor((c) => c.method === 'chat.postMessage');
    const done = await app.standIn.waitFor((c) => c.method === 'files.completeUploadExternal');
    expect(done.body.channel_id).toBe(MEMBER);
    expect(done.body.thread_ts).toBeDefined();
    expect(posted.body.channel).toBe(MEMBER);
    const ticket = app.standIn.callsTo('files.getUploadURLExternal')[0];
    expect(ticket?.body.filename).toBe('segment-map.png');
    expect(String(ticket?.body.alt_txt)).toMatch(/Bubble|segment/i);
  });

  it('still delivers the text when the upload fails', async () => {
    app.standIn.failNext('files.getUploadURLExternal', { kind: 'error', error: 'missing_scope' });
    const { responseId } = await app.command('segments k=4');
    const reply = await app.reply(responseId);
    expect(JSON.stringify(reply.body.blocks)).toContain('4 segments in');
    expect(app.standIn.callsTo('files.completeUploadExternal')).toHaveLength(0);
  });
});
