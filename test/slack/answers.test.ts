import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blockText, startTestApp, type TestApp } from '../support/test-app.ts';

describe('answers: placeholders, command buttons, failed deliveries', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Every answer counts as slow here, so the "Working on it…" path runs deterministically.
    app = await startTestApp({ slack: { workingAfterMs: 0 } });
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(() => {
    app.standIn.reset();
    app.logs.length = 0;
  });
  afterEach(() => {
    expect(app.standIn.violations).toEqual([]);
  });

  it('shows "Working on it…" first and replaces it with the answer', async () => {
    const { responseId } = await app.command('stats');
    await app.reply(responseId);
    const [working, answer] = app.standIn.callsTo('response_url', responseId);
    expect(working?.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(working?.body.text)).toMatch(/^Working on it/);
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(blockText(answer?.body.blocks)).toContain('Audience at a glance');
  });

  it('runs the command in a run_command button and answers with a new private message', async () => {
    const { ack, responseId } = await app.press({ actionId: 'run_command:help-stats', value: 'help stats' });
    expect(ack.status).toBe(200);
    const answer = await app.reply(responseId);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(blockText(answer.body.blocks)).toContain('/audience stats');
    // No placeholder: it could not be replaced later from a button's response_url.
    expect(app.standIn.callsTo('response_url', responseId)).toHaveLength(1);
  });

  it('pages in place in a private message, and privately below a channel message', async () => {
    const inPlace = await app.press({
      actionId: 'page_command:page-2',
      value: 'help page=2',
      ephemeral: true,
    });
    await app.reply(inPlace.responseId);
    const replaced = app.standIn.callsTo('response_url', inPlace.responseId);
    expect(replaced.every((c) => c.body.replace_original === true)).toBe(true);

    const inChannel = await app.press({
      actionId: 'page_command:page-2',
      value: 'help page=2',
      ephemeral: false,
    });
    const answer = await app.reply(inChannel.responseId);
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(app.standIn.callsTo('response_url', inChannel.responseId)).toHaveLength(1);
  });

  it('logs a response_url that Slack refuses, with context, and keeps serving', async () => {
    app.standIn.failNext('response_url', { kind: 'http', status: 404, body: 'expired_url' }, 2);
    const { responseId } = await app.command('help', { userId: 'U0LOGGED1' });
    // Placeholder and answer both refused (a dead response_url): both failures are logged.
    await expect.poll(() => app.standIn.callsTo('response_url', responseId).length).toBe(2);
    await expect.poll(() => app.logs.filter((l) => l.includes('could not deliver a reply')).length).toBe(2);
    const line = app.logs.find((l) => l.includes('could not deliver a reply')) ?? '';
    expect(line).toContain('U0LOGGED1');
    expect(line).toContain('respond_404');

    const next = await app.command('help');
    expect(blockText((await app.reply(next.responseId)).body.blocks)).toContain('*stats*');
  });

  it('falls back to plain text when Slack refuses the blocks (400)', async () => {
    // The first fault hits the placeholder, the second the answer (each retried once without blocks).
    app.standIn.failNext('response_url', { kind: 'http', status: 400, body: 'invalid_blocks' }, 1);
    const working = app.standIn.waitFor((c) => c.method === 'response_url' && c.body.blocks === undefined);
    const { responseId } = await app.command('help');
    await working;
    app.standIn.failNext('response_url', { kind: 'http', status: 400, body: 'invalid_blocks' }, 1);
    const plain = await app.standIn.waitFor(
      (c) =>
        c.path === `/response/${responseId}` &&
        c.body.blocks === undefined &&
        !String(c.body.text).startsWith('Working'),
    );
    expect(String(plain.body.text)).toContain('Audience Insights commands');
  });

  it('waits out a 429 on the response_url (Retry-After) and still delivers both posts', async () => {
    // Placeholder and answer would both be lost with one POST each: the first two posts are rate limited.
    app.standIn.failNext('response_url', { kind: 'ratelimited', retryAfter: 1 }, 2);
    const { responseId } = await app.command('help', { userId: 'U0RATED01' });
    const answer = await app.reply(responseId);
    expect(blockText(answer.body.blocks)).toContain('*stats*');
    const posts = app.standIn.callsTo('response_url', responseId);
    expect(posts).toHaveLength(4);
    expect(posts.filter((c) => String(c.body.text).startsWith('Working on it'))).toHaveLength(3);
    expect(app.logs.some((l) => l.includes('response_url rate limited; waiting Retry-After'))).toBe(true);
  });

  it('sends the answer by direct message when the response_url keeps refusing it (5 posts at most)', async () => {
    app.standIn.failNext('response_url', { kind: 'ratelimited', retryAfter: 0 }, 5);
    const { responseId } = await app.command('help', { userId: 'U0RATED02' });
    const dm = await app.standIn.waitFor(
      (c) => c.method === 'chat.postMessage' && c.body.channel === 'DU0RATED02',
    );
    expect(blockText(dm.body.blocks)).toContain('*stats*');
    // Slack takes at most 5 posts per response_url: the placeholder and the answer share them.
    expect(app.standIn.callsTo('response_url', responseId)).toHaveLength(5);
    await expect
      .poll(() => app.logs.some((l) => l.includes('answered by direct message instead of response_url')))
      .toBe(true);
  });
});
