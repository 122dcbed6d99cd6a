import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderChart } from '../../src/charts/render.ts';
import { segmentSizesOverTime } from '../../src/charts/specs.ts';
import type { RenderedChart } from '../../src/charts/types.ts';
import type { Logger } from '../../src/logger.ts';
import { type ChartUploadClient, uploadChart } from '../../src/slack/upload.ts';
import { cases } from '../charts/fixtures.ts';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.ts';

let standIn: SlackStandIn;
let chart: RenderedChart;

function client(apiUrl = standIn.apiUrl): webApi.WebClient {
  // No retries and no waiting out rate limits: a test wants the first answer.
  return new webApi.WebClient('xoxb-stand-in', {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: webApi.LogLevel.ERROR,
  });
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = () => {};
  return {
    warnings,
    debug: ignore,
    info: ignore,
    warn: (message, context) => warnings.push(`${message} ${JSON.stringify(context)}`),
    error: (message, context) => warnings.push(`${message} ${JSON.stringify(context)}`),
  };
}

beforeAll(async () => {
  standIn = await startSlackStandIn();
  chart = await renderChart(segmentSizesOverTime(cases.sizes.realistic));
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => {
  standIn.reset();
});

describe('uploadChart', () => {
  it('gets an upload URL, posts the bytes, then completes into the thread, in that order', async () => {
    const result = await uploadChart(client(), {
      channelId: 'C0CHARTS',
      threadTs: '1780000001.000100',
      chart,
    });

    expect(standIn.calls.map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
    const [ticket, upload, complete] = standIn.calls;
    expect(ticket?.body).toMatchObject({
      filename: 'segment-sizes.png',
      length: String(chart.png.length),
      alt_txt: chart.alt,
    });
    expect(upload?.body).toEqual({ bytes: chart.png.length });
    const fileId = upload?.path.split('/').pop();
    expect(complete?.body).toMatchObject({ channel_id: 'C0CHARTS', thread_ts: '1780000001.000100' });
    expect(JSON.parse(String(complete?.body.files))).toEqual([{ id: fileId, title: chart.title }]);
    expect(result).toEqual({ ok: true, fileId });
  });

  it('shares into the channel itself when there is no thread', async () => {
    const result = await uploadChart(client(), {
      channelId: 'C0CHARTS',
      chart,
      initialComment: chart.caption,
    });
    expect(result.ok).toBe(true);
    const complete = standIn.callsTo('files.completeUploadExternal')[0];
    expect(complete?.body).not.toHaveProperty('thread_ts');
    expect(complete?.body.initial_comment).toBe(chart.caption);
  });

  it('returns ok:false and logs when the byte upload fails, and does not complete', async () => {
    standIn.failNext('upload', { kind: 'http', status: 500, body: 'boom' });
    const logger = recordingLogger();
    const result = await uploadChart(client(), { channelId: 'C0CHARTS', chart, logger });

    expect(result).toEqual({ ok: false, error: 'upload: http_500' });
    expect(standIn.callsTo('files.completeUploadExternal')).toEqual([]);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('upload: http_500');
    expect(logger.warnings[0]).not.toContain('xoxb-');
  });

  it('explains a missing files:write scope', async () => {
    standIn.failNext('files.getUploadURLExternal', { kind: 'error', error: 'missing_scope' });
    const result = await uploadChart(client(), { channelId: 'C0CHARTS', chart, logger: recordingLogger() });

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^files\.getUploadURLExternal: missing_scope .*files:write/);
    expect(standIn.calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal']);
  });

  it('reports a rate limit on completion instead of throwing', async () => {
    standIn.failNext('files.completeUploadExternal', { kind: 'ratelimited', retryAfter: 30 });
    const result = await uploadChart(client(), { channelId: 'C0CHARTS', chart, logger: recordingLogger() });
    expect(result).toEqual({
      ok: false,
      error: 'files.completeUploadExternal: ratelimited (retry after 30 s)',
    });
  });

  it('reports a Slack API that cannot be reached', async () => {
    const closed = await startSlackStandIn();
    const apiUrl = closed.apiUrl;
    await closed.close();
    const result = await uploadChart(client(apiUrl), {
      channelId: 'C0CHARTS',
      chart,
      logger: recordingLogger(),
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^files\.getUploadURLExternal: request_error/);
  });

  it('reports an upload URL that cannot be reached', async () => {
    const closed = await startSlackStandIn();
    const deadUrl = `${closed.apiUrl.replace(/\/api\/$/, '')}/upload/F1`;
    await closed.close();
    const unreachable: ChartUploadClient = {
      apiCall: async () => ({ ok: true, upload_url: deadUrl, file_id: 'F1' }),
    };
    const result = await uploadChart(unreachable, {
      channelId: 'C0CHARTS',
      chart,
      logger: recordingLogger(),
    });
    expect(result).toEqual({ ok: false, error: 'upload: fetch failed (ECONNREFUSED)' });
  });
});
