/**
 * The YouTube connector (Data API v3). Credentials: `apiKey` (public data of any channel: uploads, statistics,
 * public comments) or `accessToken` (OAuth with youtube.readonly; youtube.force-ssl to read comments as the
 * channel's owner). Settings: `channelId` (required with an API key; with OAuth, the token's own channel when
 * absent), optional `dailyQuota` (units per day of the Google project, default 10000), `lookbackDays` (default 30),
 * `batchRows` (default 500).
 */
import type { Connector, ConnectorContext, SyncBatch } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { positiveSetting } from '../shared/settings.ts';
import { DEFAULT_DAILY_QUOTA, YouTubeClient } from './youtube-client.ts';
import { channelsAnswer } from './youtube-shapes.ts';
import { youtubeChanges } from './youtube-sync.ts';

/** The default API root. */
export const YOUTUBE_BASE_URL = 'https://www.googleapis.com/youtube/v3';
/** OAuth scopes that are enough for a sync (documented in the README). */
export const YOUTUBE_SCOPES = [
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/youtube.force-ssl',
] as const;

/** The YouTube connector. */
export const youtubeConnector: Connector = {
  kind: 'youtube',

  async authenticate(ctx) {
    const channel = (await channels(client(ctx), ctx))[0];
    if (channel === undefined) throw noChannel();
    // The Data API does not report granted scopes; an API key reads public data only.
    return {
      accountId: channel.id,
      accountName: channel.snippet?.title ?? channel.id,
      scopes: ctx.credentials.accessToken === undefined ? ['api_key'] : ['oauth'],
    };
  },

  async listSources(ctx) {
    return (await channels(client(ctx), ctx)).map((c) => ({
      id: c.id,
      name: c.snippet?.title ?? c.id,
      kind: 'channel',
    }));
  },

  async *fetchChanges(ctx, cursor): AsyncGenerator<SyncBatch> {
    const yt = client(ctx);
    yield* youtubeChanges(
      ctx,
      {
        client: yt,
        uploadsPlaylist: async () => {
          const channel = (await channels(yt, ctx))[0];
          if (channel === undefined) throw noChannel();
          return channel.contentDetails.relatedPlaylists.uploads;
        },
        batchRows: positiveSetting(ctx, 'batchRows', 500),
        lookbackDays: positiveSetting(ctx, 'lookbackDays', 30),
      },
      cursor,
    );
  },
};

async function channels(yt: YouTubeClient, ctx: ConnectorContext) {
  const channelId = ctx.settings.channelId;
  const mine = channelId === undefined || channelId === '';
  if (mine && ctx.credentials.accessToken === undefined) {
    throw new ConnectorError(
      'config',
      'A YouTube connection with an API key needs the channelId setting (UC…).',
    );
  }
  const answer = await yt.list(channelsAnswer, 'channels.list', {
    part: 'snippet,contentDetails',
    ...(mine ? { mine: 'true' } : { id: channelId }),
  });
  return answer.items ?? [];
}

function client(ctx: ConnectorContext): YouTubeClient {
  const { apiKey, accessToken } = ctx.credentials;
  if ((apiKey === undefined || apiKey === '') && (accessToken === undefined || accessToken === '')) {
    throw new ConnectorError(
      'auth_expired',
      'This YouTube connection has neither an API key nor an OAuth token; connect it again.',
    );
  }
  return new YouTubeClient(
    ctx,
    accessToken === undefined || accessToken === '' ? { apiKey } : { accessToken },
    positiveSetting(ctx, 'dailyQuota', DEFAULT_DAILY_QUOTA),
    { day: '', used: 0 },
  );
}

function noChannel(): ConnectorError {
  return new ConnectorError(
    'config',
    'YouTube found no channel for this connection; check the channelId setting.',
    {
      platformCode: 'channelNotFound',
    },
  );
}
