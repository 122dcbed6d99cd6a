/**
 * A Socket Mode endpoint for the stand-in: `apps.connections.open` hands out its URL; the app's socket client
 * connects, gets `hello`, and the test sends envelopes (commands, buttons, events) and reads the acks back.
 * A minimal WebSocket server (RFC 6455 text frames), enough for Slack's socket protocol.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** One acknowledgement the app sent back over the socket. */
export interface SocketAck {
  envelopeId: string;
  payload: unknown;
  /** performance.now() when it arrived. */
  at: number;
}

/** The socket side of the stand-in. */
export interface SocketEndpoint {
  /** Sends an envelope to every connected client; resolves with its envelope id. */
  send(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>): string;
  readonly acks: SocketAck[];
  /** Resolves once a client is connected (and has been sent hello). */
  connected(): Promise<void>;
  waitForAck(envelopeId: string, timeoutMs?: number): Promise<SocketAck>;
  /** Drops every connection (the stand-in is closing). */
  closeAll(): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Adds the socket endpoint at `/socket` to the stand-in's HTTP server. */
export function attachSocketEndpoint(server: Server): SocketEndpoint {
  const clients = new Set<Duplex>();
  const acks: SocketAck[] = [];
  const waiters: Array<() => void> = [];
  let seq = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string') {
      socket.destroy();
      return;
    }
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    clients.add(socket);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const frame = readFrame(buffered);
        if (!frame) break;
        buffered = buffered.subarray(frame.length);
        if (frame.opcode === 0x8) {
          clients.delete(socket);
          socket.end();
          return;
        }
        if (frame.opcode === 0x9) socket.write(encodeFrame(frame.data, 0xa));
        if (frame.opcode === 0x1) received(frame.data.toString('utf8'));
      }
    });
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
    socket.write(encodeFrame(Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1 })), 0x1));
    for (const w of waiters.splice(0)) w();
  });

  function received(text: string): void {
    try {
      const message = JSON.parse(text) as { envelope_id?: unknown; payload?: unknown };
      if (typeof message.envelope_id === 'string')
        acks.push({ envelopeId: message.envelope_id, payload: message.payload, at: performance.now() });
    } catch {
      // Not JSON: nothing the stand-in needs.
    }
  }

  return {
    acks,
    send(type, payload) {
      const envelopeId = `env-${++seq}`;
      const message = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
      };
      const frame = encodeFrame(Buffer.from(JSON.stringify(message)), 0x1);
      for (const client of clients) client.write(frame);
      return envelopeId;
    },
    closeAll() {
      for (const client of clients) client.destroy();
      clients.clear();
    },
    connected() {
      if (clients.size > 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async waitForAck(envelopeId, timeoutMs = 10_000) {
      const until = performance.now() + timeoutMs;
      for (;;) {
        const found = acks.find((a) => a.envelopeId === envelopeId);
        if (found) return found;
        if (performance.now() > until) throw new Error(`socket stand-in: no ack for ${envelopeId}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

function encodeFrame(data: Buffer, opcode: number): Buffer {
  const header =
    data.length < 126
      ? Buffer.from([0x80 | opcode, data.length])
      : data.length < 65_536
        ? Buffer.from([0x80 | opcode, 126, data.length >> 8, data.length & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x80 | opcode;
            h[1] = 127;
            h.writeBigUInt64BE(BigInt(data.length), 2);
            return h;
          })();
  return Buffer.concat([header, data]);
}

function readFrame(buffer: Buffer): { opcode: number; data: Buffer; length: number } | null {
  if (buffer.length < 2) return null;
  const opcode = (buffer[0] ?? 0) & 0x0f;
  const masked = ((buffer[1] ?? 0) & 0x80) !== 0;
  let length = (buffer[1] ?? 0) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskBytes = masked ? 4 : 0;
  if (buffer.length < offset + maskBytes + length) return null;
  const mask = masked ? buffer.subarray(offset, offset + 4) : null;
  const data = Buffer.from(buffer.subarray(offset + maskBytes, offset + maskBytes + length));
  if (mask) for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return { opcode, data, length: offset + maskBytes + length };
}
