import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/slack/errors.ts';

const platform = (error: string) => ({ code: 'slack_webapi_platform_error', data: { ok: false, error } });

describe('classifyFailure', () => {
  it('waits on rate limits, retries server errors and timeouts, joins on not_in_channel, pauses on the rest', () => {
    expect(classifyFailure({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 })).toEqual({
      kind: 'rate_limited',
      code: 'ratelimited',
      retryAfterMs: 3000,
    });
    expect(classifyFailure({ code: 'slack_webapi_http_error', statusCode: 503 }).kind).toBe('transient');
    expect(classifyFailure({ code: 'slack_webapi_http_error', statusCode: 400 }).kind).toBe('other');
    // The Web API client wraps a fetch timeout (AbortSignal.timeout) as a request error.
    expect(classifyFailure({ code: 'slack_webapi_request_error' }).kind).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toEqual({
      kind: 'transient',
      code: 'timeout',
    });
    expect(classifyFailure(platform('not_in_channel')).kind).toBe('not_in_channel');
    for (const code of [
      'channel_not_found',
      'is_archived',
      'account_inactive',
      'token_revoked',
      'invalid_auth',
      'not_authed',
    ]) {
      expect(classifyFailure(platform(code))).toEqual({ kind: 'pause', code });
    }
    expect(classifyFailure(platform('invalid_blocks')).kind).toBe('blocks');
    expect(classifyFailure(platform('msg_too_long'))).toEqual({ kind: 'other', code: 'msg_too_long' });
  });
});
