/**
 * Requests as Slack sends them: form-encoded bodies signed with the app's signing secret
 * (HMAC-SHA256 of `v0:<timestamp>:<body>`, headers X-Slack-Signature and X-Slack-Request-Timestamp).
 */
import { createHmac } from 'node:crypto';

/** The two signature headers for `body` at `timestamp` (seconds; default now). */
export function signatureHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'X-Slack-Signature': signature, 'X-Slack-Request-Timestamp': String(timestamp) };
}

/** How to sign: the right secret by default; tests break it on purpose. */
export interface SignOptions {
  secret: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replaces the computed signature (a forged request). */
  signature?: string;
}

/** The outcome of one signed POST: status, body text, and when the response arrived. */
export interface PostResult {
  status: number;
  text: string;
  /** performance.now() at which the response (the acknowledgement) was complete. */
  at: number;
  /** Milliseconds from sending to the complete response. */
  ms: number;
}

/** POSTs a form body to `/slack/events` of `baseUrl`, signed as Slack would. */
export async function postSigned(
  baseUrl: string,
  form: Record<string, string>,
  sign: SignOptions,
): Promise<PostResult> {
  const body = new URLSearchParams(form).toString();
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    ...signatureHeaders(sign.secret, body, sign.timestamp),
  };
  if (sign.signature !== undefined) headers['X-Slack-Signature'] = sign.signature;
  const start = performance.now();
  const res = await fetch(new URL('/slack/events', baseUrl), { method: 'POST', headers, body });
  const text = await res.text();
  const at = performance.now();
  return { status: res.status, text, at, ms: at - start };
}

/** A slash command payload with Slack's usual fields. */
export function slashCommand(fields: {
  text: string;
  responseUrl: string;
  userId?: string;
  channelId?: string;
  channelName?: string;
  command?: string;
}): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T0000001',
    team_domain: 'stand-in',
    channel_id: fields.channelId ?? 'C0000001',
    channel_name: fields.channelName ?? 'marketing',
    user_id: fields.userId ?? 'U0000001',
    user_name: 'marketer',
    command: fields.command ?? '/audience',
    text: fields.text,
    api_app_id: 'A0000001',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id: '1000.2000.abc',
  };
}

/** A block_actions payload for pressing one button (form field `payload` holds the JSON). */
export function buttonPress(fields: {
  actionId: string;
  value: string;
  responseUrl: string;
  userId?: string;
  channelId?: string;
  ephemeral?: boolean;
  blockId?: string;
}): Record<string, string> {
  const channelId = fields.channelId ?? 'C0000001';
  const payload = {
    type: 'block_actions',
    team: { id: 'T0000001', domain: 'stand-in' },
    user: { id: fields.userId ?? 'U0000001', username: 'marketer', team_id: 'T0000001' },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: '1780000000.000100',
      channel_id: channelId,
      is_ephemeral: fields.ephemeral ?? true,
    },
    trigger_id: '1000.2000.abc',
    channel: { id: channelId, name: 'marketing' },
    response_url: fields.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: fields.blockId ?? 'reply_share',
        text: { type: 'plain_text', text: 'Button', emoji: true },
        value: fields.value,
        action_ts: '1780000001.000200',
      },
    ],
  };
  return { payload: JSON.stringify(payload) };
}

/** An Events API callback (JSON body) such as app_home_opened. */
export async function postEvent(
  baseUrl: string,
  event: Record<string, unknown>,
  sign: SignOptions,
): Promise<PostResult> {
  const body = JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0000001',
    api_app_id: 'A0000001',
    event,
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { team_id: 'T0000001', user_id: 'UBOT0001', is_bot: true, is_enterprise_install: false },
    ],
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    ...signatureHeaders(sign.secret, body, sign.timestamp),
  };
  const start = performance.now();
  const res = await fetch(new URL('/slack/events', baseUrl), { method: 'POST', headers, body });
  const text = await res.text();
  const at = performance.now();
  return { status: res.status, text, at, ms: at - start };
}
