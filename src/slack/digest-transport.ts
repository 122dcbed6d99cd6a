/**
 * The digests' way into Slack: the digest transport (src/digest/deliver.ts) over the app's one posting path,
 * plus turning a channel typed as `#name` into its id.
 */
import type { webApi } from '@slack/bolt';
import type { DigestTransport, PostOutcome } from '../digest/deliver.ts';
import { createPacer, DEFAULT_POLICY } from '../digest/deliver.ts';
import { systemTimers } from '../domain/timers.ts';
import { classifyFailure } from './errors.ts';
import { createPostingClient, type PostingClientOptions, postToChannel, sendDirectMessage } from './post.ts';
import { uploadChart } from './upload.ts';

/** Creates the Slack transport on a posting client of its own (it does not retry by itself: post.ts decides). */
export function createSlackTransport(
  options: PostingClientOptions & {
    /** An existing client, for tests; it should not retry by itself. */
    client?: webApi.WebClient;
  },
): DigestTransport {
  const client = options.client ?? createPostingClient(options);
  const channelIdOf = createChannelNames(client);
  // Used when a caller leaves out pacing and policy (the scheduler always passes its own).
  const defaults = {
    timers: systemTimers,
    pacer: createPacer(systemTimers, 0),
    logger: options.logger,
    policy: DEFAULT_POLICY,
    context: {},
  };
  return {
    kind: 'slack',
    async post(message, how = defaults): Promise<PostOutcome> {
      let channel: string;
      try {
        channel = await channelIdOf(message.channel);
      } catch (error) {
        const { code } = classifyFailure(error);
        return { ok: false, code, pause: code === 'channel_not_found', attempts: 0 };
      }
      const outcome = await postToChannel(
        client,
        channel,
        {
          text: message.text,
          blocks: message.blocks,
          metadata: { event_type: 'audience_digest', event_payload: { key: message.key } },
        },
        { ...how, what: 'digest' },
      );
      if (!outcome.ok)
        return { ok: false, code: outcome.code, pause: outcome.pause, attempts: outcome.attempts };
      const { ts, channel: posted } = outcome.value;
      return { ok: true, ts, channel: posted, joined: outcome.joined, attempts: outcome.attempts };
    },
    async notifyUser(userId, message) {
      await sendDirectMessage(client, userId, message);
    },
    async findPost(channelName, key) {
      const channel = await channelIdOf(channelName);
      // A replica that stopped mid-post did so within its lease: its message is among the latest ones.
      const page = await client.conversations.history({ channel, limit: 200, include_all_metadata: true });
      for (const m of page.messages ?? []) {
        const payload = m.metadata?.event_payload as { key?: unknown } | undefined;
        if (m.metadata?.event_type === 'audience_digest' && payload?.key === key)
          return { channel, ts: m.ts ?? null };
      }
      return false;
    },
    uploadChart(channel, threadTs, chart) {
      return uploadChart(client, { channelId: channel, threadTs, chart, logger: options.logger });
    },
  };
}

const CHANNEL_NAMES_TTL_MS = 10 * 60_000;

/**
 * Turns a `#name` typed in `/audience digest add` (slash commands arrive unescaped, so a channel picked from
 * Slack's autocomplete is plain `#growth`) into its channel id; ids pass through. conversations.join takes ids
 * only, and a rename would otherwise break a schedule. Names are listed once per 10 minutes, not per post
 * (1,000 digests due at once must not list the workspace 1,000 times). An unknown name fails like Slack's own
 * `channel_not_found`, so the schedule is paused and its owner told how to fix it.
 */
function createChannelNames(client: webApi.WebClient): (channel: string) => Promise<string> {
  let listed: { at: number; ids: Promise<Map<string, string>> } | null = null;
  const list = async (): Promise<Map<string, string>> => {
    const ids = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = await client.conversations.list({
        types: 'public_channel,private_channel',
        exclude_archived: true,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      for (const c of page.channels ?? []) if (c.name && c.id) ids.set(c.name.toLowerCase(), c.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return ids;
  };
  const names = (refresh: boolean): Promise<Map<string, string>> => {
    if (refresh || !listed || performance.now() - listed.at > CHANNEL_NAMES_TTL_MS) {
      const ids = list();
      listed = { at: performance.now(), ids };
      // A failed listing is not kept: the next post tries again.
      ids.catch(() => {
        if (listed?.ids === ids) listed = null;
      });
    }
    return listed.ids;
  };
  return async (channel) => {
    if (!channel.startsWith('#')) return channel;
    const name = channel.slice(1).toLowerCase();
    const before = listed;
    let id = (await names(false)).get(name);
    // Perhaps made since an older listing was taken: look once more before giving up.
    if (id === undefined && before !== null && before === listed && performance.now() - before.at > 5_000)
      id = (await names(true)).get(name);
    return id ?? notFound(channel);
  };
}

function notFound(channel: string): never {
  throw Object.assign(new Error(`no channel named ${channel} that the app can see`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: 'channel_not_found' },
  });
}
