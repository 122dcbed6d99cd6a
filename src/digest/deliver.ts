/**
 * Getting one digest message into its channel, as the scheduler sees it: a transport interface (Slack in
 * src/slack/digest-transport.ts, or the console in local mode), the delivery policy it is asked to follow,
 * and the pacer that spaces posts per channel. The policy itself (Retry-After, backoff, joining, pausing on
 * problems only a person can fix) is applied by the transport: Slack's is the app's one posting path.
 */

import type { Writable } from 'node:stream';
import type { KnownBlock } from '@slack/types';
import { renderText } from '../blocks/plain-text.ts';
import type { RenderedChart, UploadChartResult } from '../charts/types.ts';
import type { Reply } from '../domain/reply.ts';
import type { Timers } from '../domain/timers.ts';
import { saveReplyFiles } from '../export/save-files.ts';
import type { Logger } from '../logger.ts';

/** A digest message for one channel. */
export interface DigestPost {
  channel: string;
  text: string;
  blocks: KnownBlock[];
  /** The occurrence key, attached as message metadata so a post can be recognised later. */
  key: string;
}

/** How the scheduler wants one post made: paced, retried and logged like every other. */
export interface PostHow {
  timers: Timers;
  pacer: Pacer;
  logger: Logger;
  policy: DeliveryPolicy;
  context: Record<string, unknown>;
}

/** Where digests go: Slack, or the console in local mode. */
export interface DigestTransport {
  readonly kind: 'slack' | 'console';
  /**
   * Posts with the delivery policy (defaults when `how` is left out); never throws. A success carries the
   * message ts and the channel id Slack reports (a `#name` becomes its id).
   */
  post(message: DigestPost, how?: PostHow): Promise<PostOutcome>;
  /** A direct message to a person (the owner of a failing digest). */
  notifyUser(userId: string, message: Reply): Promise<void>;
  /**
   * Looks among the channel's recent messages for the digest of occurrence `key` (its metadata): how a replica
   * taking over from one that stopped mid-post finds out whether it was posted. Absent where it cannot look.
   */
  findPost?(channel: string, key: string): Promise<{ channel: string; ts: string | null } | false>;
  /** Uploads a chart into the digest's thread; never throws. Absent where pictures cannot go. */
  uploadChart?(channel: string, threadTs: string, chart: RenderedChart): Promise<UploadChartResult>;
}

/** The console transport, whose posts cannot fail. */
export interface ConsoleTransport extends DigestTransport {
  post(message: DigestPost, how?: PostHow): Promise<Extract<PostOutcome, { ok: true }>>;
}

/** The local-mode transport: a digest "posts" by printing, under a header line naming the channel. */
export function createConsoleTransport(output: Writable): ConsoleTransport {
  return {
    kind: 'console',
    async post(message) {
      output.write(
        `\n──── Digest to ${message.channel} (${message.key}) ────\n${renderText({ text: message.text, blocks: message.blocks })}\n\n`,
      );
      // The occurrence key stands in for Slack's message ts, so a chart can follow "in the thread".
      return { ok: true, ts: message.key, channel: message.channel, joined: false, attempts: 1 };
    },
    async notifyUser(userId, message) {
      output.write(`\n──── Message to ${userId} ────\n${renderText(message)}\n\n`);
    },
    async uploadChart(_channel, threadTs, chart) {
      try {
        const [path] = await saveReplyFiles([
          {
            filename: `${chart.name}-${threadTs.replace(/[^\w-]/g, '_')}.png`,
            title: chart.title,
            content: chart.png,
          },
        ]);
        output.write(`Chart for ${threadTs}: ${chart.title} saved to ${path}\n`);
        return { ok: true, fileId: path ?? '' };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}

/** How hard to try. */
export interface DeliveryPolicy {
  /** Attempts for 5xx, timeouts and network errors, first included (default 3). */
  maxAttempts: number;
  /** First backoff; doubles each retry (default 1 s). */
  backoffMs: number;
  /** Rate-limit waits before giving up (default 5). */
  maxRateLimitWaits: number;
  /** A Retry-After longer than this is reported instead of waited out (default: always wait). */
  maxRetryAfterMs?: number;
}

/** The default policy. */
export const DEFAULT_POLICY: DeliveryPolicy = { maxAttempts: 3, backoffMs: 1000, maxRateLimitWaits: 5 };

/** Spaces posts per channel and holds every post back after a rate limit. */
export interface Pacer {
  /** Resolves when a post to `channel` may start, and reserves that slot. */
  wait(channel: string): Promise<void>;
  /** Nothing is posted anywhere for the next `ms`. */
  holdAll(ms: number): void;
}

/** A pacer allowing one post per `intervalMs` per channel. */
export function createPacer(timers: Timers, intervalMs: number): Pacer {
  const next = new Map<string, number>();
  let heldUntil = 0;
  return {
    async wait(channel) {
      for (;;) {
        const now = timers.monotonic();
        const at = Math.max(next.get(channel) ?? 0, heldUntil);
        if (at <= now) {
          // Reserved before any await, so two posts to one channel can never take the same slot.
          next.set(channel, now + intervalMs);
          if (next.size > 10_000) {
            for (const [c, t] of next) if (t < now) next.delete(c);
          }
          return;
        }
        await timers.sleep(at - now);
      }
    },
    holdAll(ms) {
      heldUntil = Math.max(heldUntil, timers.monotonic() + ms);
    },
  };
}

/** The outcome of posting one digest. */
export type PostOutcome =
  | { ok: true; ts: string | null; channel: string; joined: boolean; attempts: number }
  | { ok: false; code: string; pause: boolean; attempts: number };

/** Posts one digest through its transport with the given pacing and policy; never throws. */
export function postDigest(
  deps: { transport: DigestTransport; timers: Timers; pacer: Pacer; logger: Logger; policy?: DeliveryPolicy },
  message: DigestPost,
  context: Record<string, unknown>,
): Promise<PostOutcome> {
  const { transport, timers, pacer, logger } = deps;
  return transport.post(message, { timers, pacer, logger, policy: deps.policy ?? DEFAULT_POLICY, context });
}
