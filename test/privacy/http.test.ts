import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../src/slack/verified-receiver.ts';
import { signatureHeaders, slashCommand } from '../support/signed-request.ts';
import { blockText, SIGNING_SECRET, startTestApp, TEST_NOW, type TestApp } from '../support/test-app.ts';

const MEMBER_CHANNEL = 'C0MEMBER1';
const DAY = 86_400_000;

describe('the Slack front door', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      profiles: 300,
      // Exactly 7 people joined this week: a figure a channel must not see as such.
      prepare: (data) => {
        data.profiles.forEach((p, i) => {
          p.created_at = TEST_NOW.getTime() - (i < 7 ? 2 : 200) * DAY;
        });
      },
    });
    app.standIn.addChannel({ id: MEMBER_CHANNEL, name: 'marketing', member: true });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(new URL('/slack/events', app.baseUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
  const command = (text: string) =>
    new URLSearchParams(slashCommand({ text, responseUrl: app.standIn.responseUrl('x') })).toString();

  it('refuses forged signatures and stale timestamps with 401', async () => {
    const body = command('stats');
    const forged = await post(body, signatureHeaders('not-the-secret', body));
    expect(forged.status).toBe(401);
    const stale = await post(
      body,
      signatureHeaders(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 6 * 60),
    );
    expect(stale.status).toBe(401);
    const unsigned = await post(body, {});
    expect(unsigned.status).toBe(401);
    const good = await post(body, signatureHeaders(SIGNING_SECRET, body));
    expect(good.status).toBe(200);
  });

  it(`refuses bodies over ${MAX_REQUEST_BODY_BYTES} bytes with 413`, async () => {
    const body = `text=${'a'.repeat(MAX_REQUEST_BODY_BYTES + 10)}`;
    // The answer, not a reset connection (test/slack/body-limit.test.ts covers both receivers and clients).
    const res = await post(body, signatureHeaders(SIGNING_SECRET, body));
    expect(res.status).toBe(413);
  });

  it('shares stats to a channel with "fewer than 10" for a 7-person figure', async () => {
    const { responseId } = await app.press({
      actionId: 'share_reply',
      value: 'stats',
      channelId: MEMBER_CHANNEL,
    });
    const posted = await app.standIn.waitFor((c) => c.method === 'chat.postMessage');
    const text = blockText(posted.body.blocks);
    expect(text).toContain('*New this week*\nfewer than 10');
    expect(text).not.toMatch(/\*New this week\*\n7\b/);
    await app.standIn.waitFor((c) => c.path === `/response/${responseId}`);
    const mine = await app.command('stats', { channelId: MEMBER_CHANNEL });
    expect(blockText((await app.reply(mine.responseId)).body.blocks)).toContain('*New this week*\n7');
  });

  it('tells a non-admin why forget is refused', async () => {
    const { responseId } = await app.command('forget u000001', {
      channelId: MEMBER_CHANNEL,
      userId: 'U0MEMBER9',
    });
    const reply = await app.reply(responseId);
    expect(String(reply.body.text)).toMatch(/Only Audience Insights admins can run \/audience forget/);
    expect(app.store.data.profiles.some((p) => p.id === 'u000001')).toBe(true);
  });

  it('never logs the bot token', () => {
    expect(app.logs.length).toBeGreaterThan(0);
    expect(app.logs.join('\n')).not.toContain('xoxb-test-token');
  });
});

describe('signature checking', () => {
  it('is never turned off in the app source', async () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (/\.(ts|mjs|js)$/.test(entry.name)) {
          if (/signatureVerification\s*:\s*false/.test(await readFile(full, 'utf8'))) offenders.push(full);
        }
      }
    };
    await walk(root);
    expect(offenders).toEqual([]);
  });
});
