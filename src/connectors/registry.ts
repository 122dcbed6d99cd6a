/**
 * The connectors this build ships, with what the surfaces need to connect one: the settings and credentials it
 * takes (and their CLI flags), the platform's API root, and the permissions the user must grant. A kind without an
 * entry is not in this build yet; the CLI and Slack say so instead of failing later.
 */

import type { Connector, ConnectorKind } from './connector.ts';
import { GRAPH_BASE_URL, GRAPH_PERMISSIONS, instagramConnector } from './instagram/instagram-connector.ts';
import { SHOPIFY_SCOPES, shopifyBaseUrl, shopifyConnector } from './shopify/shopify-connector.ts';
import { YOUTUBE_BASE_URL, YOUTUBE_SCOPES, youtubeConnector } from './youtube/youtube-connector.ts';

/** One field a connection takes: its key in settings/credentials, its CLI flag, and what it is. */
export interface ConnectorField {
  key: string;
  /** The CLI option, e.g. `--ig-user <id>`. */
  flag: string;
  label: string;
  /** At least one of the fields of a group marked `oneOf` is required (Instagram: account or Page). */
  required: boolean | 'oneOf';
}

/** A shipped connector and how to connect it. */
export interface ConnectorEntry {
  connector: Connector;
  label: string;
  settings: readonly ConnectorField[];
  credentials: readonly ConnectorField[];
  permissions: readonly string[];
  /** Whether authenticate() reports the granted permissions (YouTube's Data API does not). */
  reportsScopes: boolean;
  /** The API root for a connection's settings (Shopify's depends on the shop). */
  defaultBaseUrl(settings: Readonly<Record<string, string>>): string;
  /** The settings for what was typed in the Slack form's one "account / Page / channel / shop" field. */
  sourceSettings(source: string): Record<string, string>;
}

/** Every connector in this build, by kind. */
export const CONNECTORS: Readonly<Partial<Record<ConnectorKind, ConnectorEntry>>> = {
  instagram: {
    connector: instagramConnector,
    label: 'Instagram professional account / Facebook Page (Graph API)',
    settings: [
      {
        key: 'igUserId',
        flag: '--ig-user <id>',
        label: 'Instagram professional account id',
        required: 'oneOf',
      },
      { key: 'pageId', flag: '--page <id>', label: 'Facebook Page id', required: 'oneOf' },
    ],
    credentials: [
      { key: 'accessToken', flag: '--token <token>', label: 'user access token', required: true },
      { key: 'pageAccessToken', flag: '--page-token <token>', label: 'Page access token', required: false },
    ],
    permissions: GRAPH_PERMISSIONS,
    reportsScopes: true,
    defaultBaseUrl: () => GRAPH_BASE_URL,
    // `17841…` is an Instagram account, `page:1040…` a Facebook Page; both may be given, comma-separated.
    sourceSettings(source) {
      const settings: Record<string, string> = {};
      for (const part of source
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')) {
        if (part.startsWith('page:')) settings.pageId = part.slice(5).trim();
        else settings.igUserId = part;
      }
      return settings;
    },
  },
  youtube: {
    connector: youtubeConnector,
    label: 'YouTube channel (Data API v3)',
    settings: [{ key: 'channelId', flag: '--channel <id>', label: 'YouTube channel id', required: false }],
    credentials: [
      { key: 'accessToken', flag: '--token <token>', label: 'OAuth access token', required: 'oneOf' },
      { key: 'apiKey', flag: '--api-key <key>', label: 'API key (public data only)', required: 'oneOf' },
    ],
    permissions: YOUTUBE_SCOPES,
    reportsScopes: false,
    defaultBaseUrl: () => YOUTUBE_BASE_URL,
    sourceSettings: (source) => ({ channelId: source.trim() }),
  },
  shopify: {
    connector: shopifyConnector,
    label: 'Shopify store (Admin GraphQL API)',
    settings: [{ key: 'shop', flag: '--shop <domain>', label: 'shop domain', required: true }],
    credentials: [
      { key: 'accessToken', flag: '--token <token>', label: 'Admin API access token', required: true },
    ],
    permissions: SHOPIFY_SCOPES,
    reportsScopes: true,
    defaultBaseUrl: (settings) => shopifyBaseUrl(settings.shop ?? ''),
    sourceSettings: (source) => ({ shop: source.trim() }),
  },
};

/**
 * The credentials a token typed into the Slack form stands for: a Google API key (`AIza…`) is YouTube's `apiKey`,
 * anything else the platform's access token.
 */
export function credentialsFromToken(kind: string, token: string): Record<string, string> {
  return kind === 'youtube' && /^AIza[\w-]{30,}$/.test(token) ? { apiKey: token } : { accessToken: token };
}

/** The connector of each shipped kind, as the sync engine takes them. */
export function connectorsByKind(): Record<string, Connector> {
  const out: Record<string, Connector> = {};
  for (const [kind, entry] of Object.entries(CONNECTORS)) if (entry) out[kind] = entry.connector;
  return out;
}

/** The API root of a kind for these settings ('' for a kind not in this build). */
export function defaultBaseUrl(kind: string, settings: Readonly<Record<string, string>>): string {
  return CONNECTORS[kind as ConnectorKind]?.defaultBaseUrl(settings) ?? '';
}
