/**
 * Platform connections in Slack (issue #15), pure: the `/audience connections` reply and the App Home section
 * (each connection's state, last sync, rows added, next run and last error), the `/audience connect` modal, and the
 * direct message a connection's owner gets when it pauses. Never a token: the builders take records without
 * their credentials.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import type { Reply } from '../domain/reply.ts';
import type { ConnectionRecord } from '../domain/types.ts';
import {
  context,
  escapeMrkdwn,
  fallbackText,
  header,
  modalView,
  plainOption as option,
  section,
  truncate,
} from './kit.ts';

/** A connection as the builders take it: everything but the sealed credentials. */
export type ConnectionSummary = Omit<ConnectionRecord, 'credentials'>;

// Two or three blocks each: 20 stay well inside a message's and the Home tab's block limits.
const MAX_SHOWN = 20;

/** callback_id of the connect modal; the view-submission listener matches it. */
export const CONNECT_MODAL_CALLBACK = 'connector_connect';
/** action_id of every input element of the connect modal (block ids are the field names). */
export const CONNECT_FIELD_ACTION = 'value';

const when = (ms: number | null) =>
  ms === null
    ? 'never'
    : `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;

function stateOf(c: ConnectionSummary): string {
  if (c.paused) {
    const why = c.paused_reason === 'quota' ? 'quota used up' : (c.paused_reason ?? 'paused');
    return `:double_vertical_bar: paused (${why})`;
  }
  if (c.last_sync_status === 'failed') return ':warning: last sync failed';
  if (c.last_sync_status === 'ok') return ':white_check_mark: syncing';
  return ':hourglass: not synced yet';
}

/** The lines of one connection. */
function connectionBlocks(c: ConnectionSummary): KnownBlock[] {
  const next = c.paused && c.paused_reason !== 'quota' ? 'when reconnected' : when(c.next_run_at);
  const lines = [
    `*${escapeMrkdwn(c.id)}* · ${escapeMrkdwn(c.kind)} · ${stateOf(c)}`,
    `Last sync ${when(c.last_sync_at)} · ${c.rows_added.toLocaleString('en-US')} rows added (${c.total_rows.toLocaleString('en-US')} in all) · next run ${next}`,
  ];
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  if (c.last_error) blocks.push(context([`Last error: ${escapeMrkdwn(truncate(c.last_error, 500))}`]));
  return blocks;
}

/** The App Home section (and the body of the `/audience connections` reply). */
export function connectionsSection(connections: readonly ConnectionSummary[]): KnownBlock[] {
  if (connections.length === 0) {
    return [
      header('Connected platforms'),
      section('No platform is connected. An admin can connect one with `/audience connect`.'),
    ];
  }
  const shown = connections.slice(0, MAX_SHOWN).flatMap(connectionBlocks);
  const more = connections.length - MAX_SHOWN;
  if (more > 0) shown.push(context([`…and ${more} more: \`audience connections\` lists them all.`]));
  return [header('Connected platforms'), ...shown];
}

/** The `/audience connections` reply. */
export function buildConnectionsMessage(connections: readonly ConnectionSummary[]): Reply {
  const text =
    connections.length === 0
      ? 'No platform is connected.'
      : `${connections.length} connected platform${connections.length === 1 ? '' : 's'}: ${connections
          .map((c) => `${c.id} (${c.paused ? 'paused' : (c.last_sync_status ?? 'not synced yet')})`)
          .join(', ')}`;
  return { text: fallbackText(text), blocks: connectionsSection(connections) };
}

/** The direct message a connection's owner gets when it pauses. */
export function buildConnectorNotice(message: string): Reply {
  return { text: fallbackText(message), blocks: [section(`:warning: ${escapeMrkdwn(message)}`)] };
}

/** The platforms the modal offers: kind and label, from the connector registry. */
export interface ConnectModalPlatform {
  kind: string;
  label: string;
}

function textInput(blockId: string, label: string, hint: string, optional: boolean): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional,
    label: { type: 'plain_text', text: label },
    hint: { type: 'plain_text', text: hint },
    element: { type: 'plain_text_input', action_id: CONNECT_FIELD_ACTION },
  };
}

/** The `/audience connect` modal (admins only): platform, name, ids and the token. */
export function buildConnectModal(
  platforms: readonly ConnectModalPlatform[],
  privateMetadata: string,
): ModalView {
  return modalView({
    callbackId: CONNECT_MODAL_CALLBACK,
    title: 'Connect a platform',
    submit: 'Connect',
    privateMetadata,
    blocks: [
      {
        type: 'input',
        block_id: 'kind',
        label: { type: 'plain_text', text: 'Platform' },
        element: {
          type: 'static_select',
          action_id: CONNECT_FIELD_ACTION,
          options: platforms.map((p) => option(truncate(p.label, 75), p.kind)),
        },
      },
      textInput(
        'name',
        'Connection name',
        'Lower-case letters, digits and dashes; default: the platform',
        true,
      ),
      textInput(
        'source',
        'Account, Page, channel or shop',
        'Instagram account id, Facebook Page id (page:<id>), YouTube channel id, or shop domain',
        false,
      ),
      textInput(
        'token',
        'Access token',
        'Checked with the platform, then stored encrypted; never shown again',
        false,
      ),
      context([
        'Only admins can connect platforms. The token is sealed with the data key and never appears in messages or logs.',
      ]),
    ],
  });
}
