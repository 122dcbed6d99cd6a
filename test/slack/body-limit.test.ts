import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../src/slack/verified-receiver.ts';
import { signatureHeaders } from '../support/signed-request.ts';
import { SIGNING_SECRET, startTestApp, type TestApp } from '../support/test-app.ts';

// docs/PRIVACY.md: a signed request body over 1 MB is refused with 413. The client must get to read that
// answer, not a reset connection, on both HTTP receivers: whether it reads while sending (fetch) or only
// once it has sent everything (a plain client, which a server that stops reading would leave hanging).

const MB = 1024 * 1024;

/** Sends the whole request first, then reads; resolves with the status line or the socket's error. */
function sendAllThenRead(baseUrl: string, body: Buffer): Promise<string> {
  const url = new URL('/slack/events', baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let settled = false;
    const settle = (outcome: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(20_000, () => settle('timed out'));
    socket.on('error', (error: NodeJS.ErrnoException) => settle(`error ${error.code ?? error.message}`));
    socket.on('close', () => settle(received.split('\r\n')[0] || 'closed without an answer'));
    socket.on('connect', async () => {
      const headers = {
        Host: url.host,
        'Content-Type': 'application/x-www-form-urlencoded',
        'Content-Length': String(body.length),
        ...signatureHeaders(SIGNING_SECRET, body.toString()),
      };
      const head = `POST ${url.pathname} HTTP/1.1\r\n${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`;
      socket.write(head);
      for (let i = 0; i < body.length; i += 256 * 1024) {
        if (!socket.write(body.subarray(i, i + 256 * 1024)))
          await new Promise((done) => socket.once('drain', done));
        if (settled) return;
      }
      // Only now start reading: the answer must still be there.
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n\r\n')) settle(received.split('\r\n')[0] ?? '');
      });
      socket.resume();
    });
    socket.pause();
  });
}

const oversized = (bytes: number) => Buffer.from(`text=${'a'.repeat(bytes)}`);

for (const receiver of ['front-door', 'bolt-http'] as const) {
  describe(`a signed body over 1 MB on the ${receiver} receiver`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        profiles: 50,
        ...(receiver === 'bolt-http' ? { slack: { receiver } } : {}),
      });
    });
    afterAll(async () => {
      await app?.stop();
    });

    for (const size of [MAX_REQUEST_BODY_BYTES + 10, 12 * MB]) {
      it(`gets 413 through fetch (${size} bytes)`, async () => {
        const body = oversized(size);
        const res = await fetch(new URL('/slack/events', app.baseUrl), {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            ...signatureHeaders(SIGNING_SECRET, body.toString()),
          },
          body,
        });
        expect(res.status).toBe(413);
      });

      it(`gets 413 when the client reads only after sending everything (${size} bytes)`, async () => {
        expect(await sendAllThenRead(app.baseUrl, oversized(size))).toBe('HTTP/1.1 413 Payload Too Large');
      });
    }

    it('still answers a normal command afterwards', async () => {
      const { ack } = await app.command('help');
      expect(ack.status).toBe(200);
    });
  });
}
