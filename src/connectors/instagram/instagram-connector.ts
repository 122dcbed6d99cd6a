/**
 * The Graph API connector: Instagram professional accounts and Facebook Pages (one Facebook Login token reads
 * both). Credentials: `accessToken` (a user token), optionally `pageAccessToken` for the Page (Page comments carry
 * their authors only with a Page token). Settings: `igUserId` and/or `pageId` (from listSources), optional
 * `lookbackDays` (incremental runs revisit content this recent; default 30) and `batchRows` (default 500).
 */
import type { Connector, ConnectorContext, ConnectorSource, SyncBatch } from '../connector.ts';
import { ConnectorError } from '../errors.ts';
import { positiveSetting } from '../shared/settings.ts';
import { GraphClient } from './graph-client.ts';
import { accountsShape, meShape, permissionsShape } from './graph-shapes.ts';
import { facebookSurface, instagramSurface } from './graph-surfaces.ts';
import { type GraphRun, graphChanges } from './graph-sync.ts';

/** The Graph API version the connector is written against (its base URL is https://graph.facebook.com/v21.0). */
export const GRAPH_API_VERSION = 'v21.0';
/** The default API root. */
export const GRAPH_BASE_URL = `https://graph.facebook.com/${GRAPH_API_VERSION}`;
/** The permissions a full sync needs (documented in the README). */
export const GRAPH_PERMISSIONS = [
  'instagram_basic',
  'instagram_manage_comments',
  'instagram_manage_insights',
  'pages_show_list',
  'pages_read_engagement',
  'pages_read_user_content',
] as const;

/** The Instagram / Facebook Pages connector. */
export const instagramConnector: Connector = {
  kind: 'instagram',

  async authenticate(ctx) {
    const client = new GraphClient(ctx, userToken(ctx));
    const me = await client.getShape(meShape, 'the token owner', 'me', { fields: 'id,name' });
    const granted = await client.getShape(permissionsShape, 'the permission list', 'me/permissions');
    return {
      accountId: me.id,
      accountName: me.name ?? me.id,
      scopes: granted.data.filter((p) => p.status === 'granted').map((p) => p.permission),
    };
  },

  async listSources(ctx) {
    const client = new GraphClient(ctx, userToken(ctx));
    const sources: ConnectorSource[] = [];
    let after: string | undefined;
    do {
      const page = await client.getShape(accountsShape, 'the list of Pages', 'me/accounts', {
        fields: 'id,name,instagram_business_account{id,username}',
        after,
      });
      for (const account of page.data) {
        sources.push({ id: account.id, name: account.name ?? account.id, kind: 'facebook_page' });
        const ig = account.instagram_business_account;
        if (ig !== undefined)
          sources.push({ id: ig.id, name: ig.username ?? ig.id, kind: 'instagram_account' });
      }
      after = page.paging?.next === undefined ? undefined : page.paging.cursors?.after;
    } while (after !== undefined);
    return sources;
  },

  async *fetchChanges(ctx, cursor): AsyncGenerator<SyncBatch> {
    yield* graphChanges(ctx, graphRun(ctx), cursor);
  },
};

/** The surfaces and limits of one run, from the connection's settings. */
function graphRun(ctx: ConnectorContext): GraphRun {
  const { igUserId, pageId } = ctx.settings;
  const surfaces: GraphRun['surfaces'] = [];
  if (igUserId !== undefined && igUserId !== '') {
    surfaces.push({ surface: instagramSurface(igUserId), client: new GraphClient(ctx, userToken(ctx)) });
  }
  if (pageId !== undefined && pageId !== '') {
    const token = ctx.credentials.pageAccessToken ?? userToken(ctx);
    surfaces.push({ surface: facebookSurface(pageId), client: new GraphClient(ctx, token) });
  }
  if (surfaces.length === 0) {
    throw new ConnectorError(
      'config',
      'This Instagram/Facebook connection names no source: set igUserId (an Instagram professional account) and/or pageId (a Facebook Page) from the list of available sources.',
    );
  }
  return {
    surfaces,
    batchRows: positiveSetting(ctx, 'batchRows', 500),
    lookbackDays: positiveSetting(ctx, 'lookbackDays', 30),
  };
}

function userToken(ctx: ConnectorContext): string {
  const token = ctx.credentials.accessToken;
  if (token === undefined || token === '') {
    throw new ConnectorError(
      'auth_expired',
      'This Instagram/Facebook connection has no access token; connect the account again.',
    );
  }
  return token;
}
