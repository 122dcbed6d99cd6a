/**
 * The connectors wired to a configuration: the sync engine's dependencies from AppConfig (the data key that seals
 * tokens, the pseudonym key, retention, the shipped connectors), and the text people read about connections and
 * syncs (the CLI prints it; Slack replies carry it as fallback text). Never a token, handle or e-mail in any of it.
 */
import type { AppConfig } from '../config.ts';
import type { Clock, ConnectionRecord } from '../domain/types.ts';

const n = (value: number) => value.toLocaleString('en-US');

import type { Logger } from '../logger.ts';
import { pseudonymizerFor } from '../privacy/pseudonym.ts';
import { parseDataKey } from '../store/encryption.ts';
import type { Store } from '../store/store.ts';
import type { ConnectDeps } from './connections.ts';
import { connectorsByKind, defaultBaseUrl } from './registry.ts';
import type { SyncDeps, SyncOutcome } from './sync.ts';

/** The sync engine's and connect's dependencies for a configuration. */
export function connectorDeps(args: {
  store: Store;
  config: AppConfig;
  clock: Clock;
  logger?: Logger;
  notify?: SyncDeps['notify'];
  fetch?: typeof globalThis.fetch;
}): SyncDeps & ConnectDeps {
  const { config } = args;
  return {
    store: args.store,
    clock: args.clock,
    connectors: connectorsByKind(),
    dataKey: config.dataEncryptionKey ? parseDataKey(config.dataEncryptionKey) : null,
    pseudonymizer: pseudonymizerFor(config),
    defaultBaseUrl,
    retentionDays: config.retentionDays,
    ...(args.logger ? { logger: args.logger } : {}),
    ...(args.notify ? { notify: args.notify } : {}),
    ...(args.fetch ? { fetch: args.fetch } : {}),
  };
}

const iso = (ms: number | null) =>
  ms === null ? 'never' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One line per connection: name, kind, state, last sync, rows added, next run, last error. */
export function describeConnections(records: readonly Omit<ConnectionRecord, 'credentials'>[]): string {
  if (records.length === 0) {
    return 'No platform is connected. Connect one with `audience connect instagram|youtube|shopify …`.';
  }
  return records
    .map((r) => {
      const state = r.paused
        ? `paused (${r.paused_reason ?? 'manual'})`
        : (r.last_sync_status ?? 'not synced yet');
      const next = r.paused && r.paused_reason !== 'quota' ? 'when reconnected' : iso(r.next_run_at);
      const lines = [
        `${r.id} (${r.kind}): ${state}`,
        `  last sync ${iso(r.last_sync_at)}, ${n(r.rows_added)} rows added (${n(r.total_rows)} in all), next run ${next}`,
      ];
      if (r.last_error) lines.push(`  last error: ${r.last_error}`);
      return lines.join('\n');
    })
    .join('\n');
}

/** What one sync did, in one or two lines. */
export function describeOutcome(o: SyncOutcome): string {
  const what = `${n(o.profiles.inserted)} new people, ${n(o.products.inserted)} new items, ${n(o.interactions.added)} new events`;
  const skipped = [
    o.interactions.duplicates > 0 ? `${n(o.interactions.duplicates)} already synced` : '',
    o.interactions.expired > 0 ? `${n(o.interactions.expired)} older than the retention period` : '',
  ].filter((s) => s !== '');
  const tail = skipped.length > 0 ? ` (${skipped.join(', ')})` : '';
  const pages = `${o.batches} ${o.batches === 1 ? 'page' : 'pages'}`;
  switch (o.status) {
    case 'ok':
      return `${o.connection}: ${what}${tail} in ${pages}.`;
    case 'dry-run':
      return `${o.connection} (dry run, nothing written): would add ${what}${tail}; read ${pages}.`;
    case 'busy':
      return `${o.connection}: ${o.message}.`;
    default:
      return `${o.connection}: ${o.status} after ${what} in ${pages}: ${o.message}`;
  }
}
