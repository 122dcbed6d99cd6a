/**
 * What both HTTP receivers do with a request body over the size limit once they have answered 413: keep reading
 * and dropping the rest, so a client still sending gets to finish and read the answer. A server that stops
 * reading leaves such a client blocked until a timeout closes the connection under it (a reset, not a 413).
 * Node only: the front door's worker thread loads this too.
 */
import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and dropped before the connection is cut (then a reset is unavoidable). */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Reads and drops the rest of `req` (already answered 413); destroys the connection past `limit` bytes. */
export function drainRefusedBody(req: IncomingMessage, limit = DRAIN_LIMIT_BYTES): void {
  if (req.complete) return;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limit) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}
