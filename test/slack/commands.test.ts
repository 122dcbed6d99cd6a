import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mrkdwnStrings } from '../support/block-limits.ts';
import { postSigned, slashCommand } from '../support/signed-request.ts';
import { blockText, SIGNING_SECRET, startTestApp, type TestApp } from '../support/test-app.ts';

const EVIL_COUNTRY = '<!channel>';
const EVIL_INTEREST = '<https://evil|click>';

describe('/audience over HTTP', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      // Imported text that would ping a channel or hide a link if it reached Slack unescaped.
      prepare: (data) => {
        data.profiles.forEach((p, i) => {
          if (i % 2 === 0) p.country = EVIL_COUNTRY;
          if (i % 3 === 0) p.interests = [...p.interests, EVIL_INTEREST];
        });
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
  });
  beforeEach(() => {
    app.standIn.reset();
  });
  afterEach(() => {
    expect(app.standIn.violations).toEqual([]);
  });

  it('acknowledges before the reply is delivered, then answers stats privately with a Share button', async () => {
    // Hold every response_url answer: a 200 for the command while the reply is still undelivered
    // proves the acknowledgement does not wait for the work.
    const release = app.standIn.holdResponses();
    let ack: Awaited<ReturnType<TestApp['command']>>;
    try {
      ack = await app.command('stats');
      expect(ack.ack.status).toBe(200);
      expect(ack.ack.text).toBe('');
    } finally {
      release();
    }
    const reply = await app.reply(ack.responseId);
    await reply.answered;
    const replyCall = app.standIn.callsTo('response_url', ack.responseId).at(-1);
    expect(replyCall?.body.response_type).toBe('ephemeral');
    const blocks = reply.body.blocks as Array<{
      type: string;
      elements?: Array<{ action_id?: string; value?: string }>;
    }>;
    expect(blockText(blocks)).toContain('Audience at a glance');
    const share = blocks.at(-1);
    expect(share?.type).toBe('actions');
    expect(share?.elements?.[0]).toMatchObject({ action_id: 'share_reply', value: 'stats' });
  });

  it('answers help with every subcommand', async () => {
    const { ack, responseId } = await app.command('help');
    expect(ack.status).toBe(200);
    const reply = await app.reply(responseId);
    const text = blockText(reply.body.blocks);
    expect(text).toContain('*stats*');
    expect(text).toContain('*help*');
  });

  it('answers an empty command with the help and an unknown one with a suggestion', async () => {
    const empty = await app.command('');
    expect(blockText((await app.reply(empty.responseId)).body.blocks)).toContain(
      'Audience Insights: commands',
    );
    const typo = await app.command('stast');
    expect(blockText((await app.reply(typo.responseId)).body.blocks)).toContain(
      'Did you mean `/audience stats`?',
    );
  });

  it('escapes imported names: no channel ping, no hidden link in the stats reply', async () => {
    const { responseId } = await app.command('stats');
    const reply = await app.reply(responseId);
    const text = mrkdwnStrings(reply.body)
      .map(([, t]) => t)
      .join('\n');
    expect(text).toContain('*Top countries:* &lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil|click&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
  });

  it('escapes typed filter text in blocks and in the notification text', async () => {
    const { responseId } = await app.command('stats where="country:<!channel>"');
    const reply = await app.reply(responseId);
    const texts = mrkdwnStrings(reply.body).map(([, t]) => t);
    expect(texts.join('\n')).toContain('filter `country:&lt;!channel&gt;`');
    expect(texts.join('\n')).not.toContain('<!channel>');
    // The notification text is mrkdwn too.
    expect(reply.body.text).toContain('country:&lt;!channel&gt;');
  });

  it('tells the user what went wrong for bad input, without a Share button', async () => {
    const { responseId } = await app.command('stats colour=blue');
    const reply = await app.reply(responseId);
    const text = blockText(reply.body.blocks);
    expect(text).toContain(':warning:');
    expect(text).toContain('/audience stats');
    expect(JSON.stringify(reply.body.blocks)).not.toContain('share_reply');
  });

  it('rejects a forged signature with 401 and does no work', async () => {
    const form = slashCommand({ text: 'stats', responseUrl: app.standIn.responseUrl('forged') });
    const res = await postSigned(app.baseUrl, form, {
      secret: SIGNING_SECRET,
      signature: `v0=${'0'.repeat(64)}`,
    });
    expect(res.status).toBe(401);
    const wrongSecret = await postSigned(app.baseUrl, form, { secret: 'not-the-secret' });
    expect(wrongSecret.status).toBe(401);
    // Work is serial: once a later valid command is answered, the rejected ones would have been too.
    const { responseId } = await app.command('help');
    await app.reply(responseId);
    expect(app.standIn.callsTo('response_url', 'forged')).toEqual([]);
    expect(app.standIn.calls.map((c) => c.method)).toEqual(['response_url']);
  });

  it('rejects a request older than five minutes with 401 and does no work', async () => {
    const form = slashCommand({ text: 'stats', responseUrl: app.standIn.responseUrl('stale') });
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const res = await postSigned(app.baseUrl, form, { secret: SIGNING_SECRET, timestamp: sixMinutesAgo });
    expect(res.status).toBe(401);
    const { responseId } = await app.command('help');
    await app.reply(responseId);
    expect(app.standIn.callsTo('response_url', 'stale')).toEqual([]);
    expect(app.standIn.calls.map((c) => c.method)).toEqual(['response_url']);
  });

  it('answers GET /healthz with data freshness and whether the models are warm', async () => {
    expect(await app.slack.whenWarm(30_000)).toBe(true);
    // The front door reads the health the main thread reports every second.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await fetch(new URL('/healthz', app.baseUrl));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      mode: 'http',
      data: { dataVersion: 1, updatedAt: '2026-06-01T00:00:00.000Z', profiles: 500, source: 'sample' },
      models: 'ready',
    });
  });
});
