/**
 * The sync engine's fetch timeout (timedFetch) over real HTTP: it cuts off a request without headers and a body
 * that stalls, but not a body that keeps flowing for longer than the timeout in total (a Shopify bulk result), and
 * not a reader that pauses between reads to commit its batches.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/connectors/errors.ts';
import { timedFetch } from '../../src/connectors/sync.ts';

const TIMEOUT = 1000;
let server: Server;
let origin = '';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/no-headers') return;
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/stall') {
      res.write('first\n');
      return;
    }
    // 12 chunks, one every TIMEOUT/6: twice the timeout in total, never silent for more than a sixth of it.
    let sent = 0;
    const tick = setInterval(() => {
      res.write(`chunk ${sent}\n`);
      if (++sent === 12) {
        clearInterval(tick);
        res.end();
      }
    }, TIMEOUT / 6);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('timedFetch', () => {
  const fetchWithTimeout = timedFetch(globalThis.fetch, TIMEOUT, 'stand-in');

  it('gives up on a request whose headers never come, as a transient fault', async () => {
    const failure = await fetchWithTimeout(`${origin}/no-headers`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConnectorError);
    expect((failure as ConnectorError).code).toBe('transient');
  });

  it('lets a body flow for longer than the timeout in total, as long as it keeps coming', async () => {
    const text = await (await fetchWithTimeout(`${origin}/flowing`)).text();
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(12);
  });

  it('does not count the time the reader spends between reads', async () => {
    const reader = (await fetchWithTimeout(`${origin}/flowing`)).body?.getReader();
    let text = '';
    for (let reads = 0; ; reads++) {
      const part = await reader?.read();
      if (part === undefined || part.done) break;
      text += new TextDecoder().decode(part.value);
      // A slow commit after the first read, longer than the timeout.
      if (reads === 0) await pause(TIMEOUT * 1.5);
    }
    expect(text.split('\n').filter((l) => l !== '')).toHaveLength(12);
  });

  it('cuts off a body that stalls for the timeout', async () => {
    const response = await fetchWithTimeout(`${origin}/stall`);
    await expect(response.text()).rejects.toThrow();
  });
});
