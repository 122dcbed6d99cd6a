import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { buildConnectorNotice, CONNECT_FIELD_ACTION } from '../../../blocks/connections-message.ts';
import { connect } from '../../../connectors/connections.ts';
import type { ConnectorKind } from '../../../connectors/connector.ts';
import { CONNECTORS, credentialsFromToken } from '../../../connectors/registry.ts';
import { connectorDeps } from '../../../connectors/service.ts';
import { UserError } from '../../../domain/errors.ts';
import { adminRefusal } from '../../../privacy/roles.ts';
import { answerPrivately } from '../../answer.ts';
import type { SlackDeps } from '../../deps.ts';
import { listener } from '../ack.ts';

type Values = ViewSubmitAction['view']['state']['values'];

function field(values: Values, block: string): string {
  const element = values[block]?.[CONNECT_FIELD_ACTION];
  return (element?.selected_option?.value ?? element?.value ?? '').trim();
}

/**
 * Submission of the "Connect a platform" modal (admins only). Missing fields are answered in the modal; then the
 * modal closes at once (checking the token with the platform may take longer than Slack waits), the token is
 * checked, sealed and stored, and the admin hears privately how it went. The token never appears in a reply or
 * a log line: errors from the platform are the connector's own one-line messages.
 */
export function createConnectSubmitListener(deps: SlackDeps) {
  return listener<SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs>(
    deps,
    { what: 'a connect form', acks: 'by-handler', context: ({ body }) => ({ user: body.user.id }) },
    async ({ ack, body, view }) => {
      const userId = body.user.id;
      const values = view.state.values;
      const kind = field(values, 'kind') as ConnectorKind;
      const entry = CONNECTORS[kind];
      const errors: Record<string, string> = {};
      if (entry === undefined) errors.kind = 'Pick a platform.';
      if (field(values, 'source') === '') errors.source = 'Give the account, Page, channel or shop to sync.';
      if (field(values, 'token') === '') errors.token = 'Paste the access token.';
      if (Object.keys(errors).length > 0 || entry === undefined) {
        await ack({ response_action: 'errors', errors });
        return;
      }
      await ack();
      const message = await connectFromForm(deps, userId, kind, {
        name: field(values, 'name'),
        settings: entry.sourceSettings(field(values, 'source')),
        token: field(values, 'token'),
      });
      const reply = buildConnectorNotice(message);
      await answerPrivately(
        deps,
        { responseUrl: responseUrlOf(view.private_metadata), userId },
        { response_type: 'ephemeral', text: reply.text, blocks: reply.blocks },
        { user: userId, part: 'connect confirmation' },
      );
    },
  );
}

async function connectFromForm(
  deps: SlackDeps,
  userId: string,
  kind: ConnectorKind,
  form: { name: string; settings: Record<string, string>; token: string },
): Promise<string> {
  // The form was opened for an admin; the submission is checked again (the list may have changed since).
  const refused = adminRefusal(deps.config, 'connect', { userId, channelId: null, surface: 'slack' });
  if (refused) return `Not connected: ${refused}.`;
  try {
    const { view, account } = await connect(
      connectorDeps({ store: deps.store, config: deps.config, clock: deps.clock, logger: deps.logger }),
      {
        kind,
        ...(form.name === '' ? {} : { name: form.name }),
        owner: userId,
        settings: form.settings,
        credentials: credentialsFromToken(kind, form.token),
      },
    );
    const who = account ? ` as ${account.accountName}` : '';
    return `Connected ${kind}${who} as "${view.id}". The token is stored encrypted; the first sync starts within a minute. \`/audience connections\` shows how it goes.`;
  } catch (error) {
    if (error instanceof UserError) return `Not connected: ${error.message}`;
    deps.logger.error('connecting a platform failed', { user: userId, kind, error: String(error) });
    return 'Not connected: something went wrong on our side (it has been logged). Try again later.';
  }
}

function responseUrlOf(text: string | undefined): string | null {
  try {
    const parsed = JSON.parse(text ?? '{}') as { responseUrl?: unknown };
    const url = typeof parsed.responseUrl === 'string' ? parsed.responseUrl : null;
    return url && /^https?:\/\//.test(url) ? url : null;
  } catch {
    return null;
  }
}
