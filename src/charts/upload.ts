/**
 * Posting a chart to Slack with the files upload v2 flow, as three visible steps:
 * files.getUploadURLExternal -> POST the bytes to the returned upload_url -> files.completeUploadExternal.
 * A picture is an extra on top of complete text, so a failed upload is reported, never thrown.
 */
import type { webApi } from '@slack/bolt';
import type { ReplyFile } from '../domain/reply.ts';
import type { Logger } from '../logger.ts';
import type { RenderedChart } from './types.ts';

/** The part of Bolt's `WebClient` this module uses; a real `WebClient` fits. */
export type ChartUploadClient = Pick<webApi.WebClient, 'apiCall'>;

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

/** The outcome of `uploadChart`: a file id, or a one-line reason. */
export type UploadChartResult = { ok: true; fileId: string } | { ok: false; error: string };

/** Slack rejects longer alt text (`alt_txt_too_large`). */
const ALT_LIMIT = 1000;

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
  const { channelId, threadTs, file, logger } = options;
  const chart = { name: file.filename, png: file.content, title: file.title, alt: file.alt ?? '' };
  const contentType = file.filename.endsWith('.png')
    ? 'image/png'
    : file.filename.endsWith('.csv')
      ? 'text/csv'
      : 'application/octet-stream';
  let step = 'files.getUploadURLExternal';
  try {
    const ticket = (await client.apiCall('files.getUploadURLExternal', {
      filename: chart.name,
      length: chart.png.length,
      // The Web API documents `alt_txt` (the SDK's own helper sends `alt_text`).
      ...(chart.alt ? { alt_txt: chart.alt.slice(0, ALT_LIMIT) } : {}),
    })) as { ok?: boolean; error?: string; upload_url?: unknown; file_id?: unknown };
    if (ticket.ok === false) throw new StepError(ticket.error ?? 'not_ok');
    if (typeof ticket.upload_url !== 'string' || typeof ticket.file_id !== 'string') {
      throw new StepError('invalid_response (no upload_url or file_id)');
    }
    const fileId = ticket.file_id;

    step = 'upload';
    const response = await fetch(ticket.upload_url, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: new Uint8Array(chart.png),
      signal: AbortSignal.timeout(options.uploadTimeoutMs ?? 30_000),
    });
    // Drain the body so the connection is released; its content is not needed.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new StepError(`http_${response.status}`);

    step = 'files.completeUploadExternal';
    const done = (await client.apiCall('files.completeUploadExternal', {
      files: [{ id: fileId, title: chart.title }],
      channel_id: channelId,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(options.initialComment ? { initial_comment: options.initialComment } : {}),
    })) as { ok?: boolean; error?: string };
    if (done.ok === false) throw new StepError(done.error ?? 'not_ok');

    logger?.debug('file uploaded', { file: chart.name, fileId, channelId });
    return { ok: true, fileId };
  } catch (error) {
    const reason = `${step}: ${describeUploadError(error)}`;
    logger?.warn('file upload failed', { file: chart.name, channelId, error: reason });
    return { ok: false, error: reason };
  }
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
