/**
 * Posting a chart or file to Slack with the files upload v2 flow, as three visible steps:
 * files.getUploadURLExternal -> POST the bytes to the returned upload_url -> files.completeUploadExternal.
 * The three steps run as one send of the app's one posting path (post.ts), so a rate limit, a temporary
 * failure or a public channel not joined yet is handled as for any message. A picture is an extra on top of
 * complete text, so a failed upload is reported, never thrown.
 */
import type { RenderedChart, UploadChartResult } from '../charts/types.ts';
import type { DeliveryPolicy } from '../digest/deliver.ts';
import type { ReplyFile } from '../domain/reply.ts';
import type { Logger } from '../logger.ts';
import { type SlackCaller, sendToChannel } from './post.ts';

/** The part of Bolt's `WebClient` this module uses; a real `WebClient` fits. */
export type ChartUploadClient = SlackCaller;

/** Where and what to upload. */
export interface UploadChartOptions {
  channelId: string;
  /** Reply in this thread instead of the channel. */
  threadTs?: string;
  chart: RenderedChart;
  logger?: Logger;
  /** Message text to post with the image; by default the file is shared without a comment. */
  initialComment?: string;
  /** Gives up on the byte upload after this long (default 30 s); the API calls use the client's own timeout. */
  uploadTimeoutMs?: number;
}

/** Slack rejects longer alt text (`alt_txt_too_large`). */
const ALT_LIMIT = 1000;

// A file is an extra: a long Retry-After is reported rather than holding up what comes after it.
const FILE_POLICY: DeliveryPolicy = {
  maxAttempts: 3,
  backoffMs: 500,
  maxRateLimitWaits: 3,
  maxRetryAfterMs: 10_000,
};

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Uploads a rendered chart into a channel or thread; returns `{ ok: false, error }` on any failure. */
export function uploadChart(
  client: ChartUploadClient,
  options: UploadChartOptions,
): Promise<UploadChartResult> {
  const { chart, ...rest } = options;
  return uploadFile(client, {
    ...rest,
    file: { filename: `${chart.name}.png`, title: chart.title, content: chart.png, alt: chart.alt },
  });
}

/** Uploads any reply file (a chart, a CSV export) with the same three steps; never throws. */
export async function uploadFile(
  client: ChartUploadClient,
  options: Omit<UploadChartOptions, 'chart'> & { file: ReplyFile },
): Promise<UploadChartResult> {
  const { channelId, file, logger } = options;
  const step = { name: 'files.getUploadURLExternal' };
  const outcome = await sendToChannel(client, channelId, () => uploadSteps(client, options, step), {
    what: 'file',
    logger: logger ?? QUIET,
    context: { file: file.filename, channelId },
    policy: FILE_POLICY,
  });
  if (outcome.ok) {
    logger?.debug('file uploaded', { file: file.filename, fileId: outcome.value, channelId });
    return { ok: true, fileId: outcome.value };
  }
  const reason = `${step.name}: ${describeUploadError(outcome.error)}`;
  logger?.warn('file upload failed', { file: file.filename, channelId, error: reason });
  return { ok: false, error: reason };
}

/** The three steps; throws with `step.name` set to the one that failed. */
async function uploadSteps(
  client: ChartUploadClient,
  options: Omit<UploadChartOptions, 'chart'> & { file: ReplyFile },
  step: { name: string },
): Promise<string> {
  const { channelId, threadTs, file } = options;
  step.name = 'files.getUploadURLExternal';
  const ticket = (await client.apiCall('files.getUploadURLExternal', {
    filename: file.filename,
    length: file.content.length,
    // The Web API documents `alt_txt` (the SDK's own helper sends `alt_text`).
    ...(file.alt ? { alt_txt: file.alt.slice(0, ALT_LIMIT) } : {}),
  })) as { ok?: boolean; error?: string; upload_url?: unknown; file_id?: unknown };
  if (ticket.ok === false) throw new StepError(ticket.error ?? 'not_ok');
  if (typeof ticket.upload_url !== 'string' || typeof ticket.file_id !== 'string') {
    throw new StepError('invalid_response (no upload_url or file_id)');
  }
  const fileId = ticket.file_id;

  step.name = 'upload';
  const response = await fetch(ticket.upload_url, {
    method: 'POST',
    headers: { 'Content-Type': contentTypeOf(file.filename) },
    body: new Uint8Array(file.content),
    signal: AbortSignal.timeout(options.uploadTimeoutMs ?? 30_000),
  });
  // Drain the body so the connection is released; its content is not needed.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new StepError(`http_${response.status}`);

  step.name = 'files.completeUploadExternal';
  const done = (await client.apiCall('files.completeUploadExternal', {
    files: [{ id: fileId, title: file.title }],
    channel_id: channelId,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...(options.initialComment ? { initial_comment: options.initialComment } : {}),
  })) as { ok?: boolean; error?: string };
  if (done.ok === false) throw new StepError(done.error ?? 'not_ok');
  return fileId;
}

function contentTypeOf(filename: string): string {
  if (filename.endsWith('.png')) return 'image/png';
  if (filename.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}

class StepError extends Error {}

/**
 * One line for people: the Slack error code plus what fixes it when that is known. Duck-typed on the Web API
 * client's documented `code` strings, so it also reads errors from another copy of @slack/web-api.
 */
export function describeUploadError(error: unknown): string {
  if (error instanceof StepError) return error.message;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    data?: { error?: unknown; needed?: unknown };
    retryAfter?: unknown;
    statusCode?: unknown;
    original?: { message?: unknown };
  };
  switch (e.code) {
    case 'slack_webapi_platform_error': {
      const code = typeof e.data?.error === 'string' ? e.data.error : 'platform_error';
      if (code === 'missing_scope') {
        const needed = typeof e.data?.needed === 'string' ? e.data.needed : 'files:write';
        return `missing_scope (the app needs ${needed}; reinstall it with that scope)`;
      }
      if (code === 'not_in_channel') return 'not_in_channel (invite the app to the channel)';
      return code;
    }
    case 'slack_webapi_rate_limited_error':
      return typeof e.retryAfter === 'number' ? `ratelimited (retry after ${e.retryAfter} s)` : 'ratelimited';
    case 'slack_webapi_http_error':
      return `http_${String(e.statusCode)}`;
    case 'slack_webapi_request_error':
      return `request_error (${String(e.original?.message ?? e.message ?? 'network')})`;
    default:
      if (e.name === 'TimeoutError') return 'timeout';
      return `${typeof e.message === 'string' && e.message ? e.message : String(error)}${causeOf(error)}`;
  }
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is on `cause`. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = cause?.code ?? cause?.message;
  return typeof detail === 'string' ? ` (${detail})` : '';
}
