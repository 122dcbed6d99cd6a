import { describe, expect, it } from 'vitest';
import { section } from '../../src/blocks/kit.ts';
import { buildSharedMessage, shareVerdict, withShareButton } from '../../src/blocks/share-messages.ts';
import type { Reply } from '../../src/domain/reply.ts';
import { commandLine } from '../support/command-line.ts';

const reply = (data?: unknown, blocks = 1): Reply => ({
  text: 'x',
  blocks: Array.from({ length: blocks }, (_, i) => section(`b${i}`)),
  data,
});
const MIN = { minCohortSize: 10 };

describe('share verdicts', () => {
  it('shares audience-level answers', () => {
    expect(shareVerdict(reply({ cohortSize: 500 }), commandLine('stats'), MIN)).toEqual({ ok: true });
    expect(shareVerdict(reply(undefined), commandLine('help'), MIN)).toEqual({ ok: true });
  });

  it('keeps per-person answers private, by flag or by user=', () => {
    expect(shareVerdict(reply({ perPerson: true }), commandLine('recommend segment=1'), MIN)).toMatchObject({
      reason: 'per_person',
    });
    expect(shareVerdict(reply({}), commandLine('/audience predict user=u00042'), MIN)).toMatchObject({
      reason: 'per_person',
    });
  });

  it('keeps errors and small cohorts private', () => {
    expect(shareVerdict(reply({ error: 'bad' }), commandLine('stats x=1'), MIN)).toMatchObject({
      reason: 'error',
    });
    expect(shareVerdict(reply({ cohortSize: 9 }), commandLine('stats'), MIN)).toEqual({
      ok: false,
      reason: 'small_cohort',
      cohortSize: 9,
    });
  });

  it('adds the Share button last, keeping within 50 blocks', () => {
    const full = withShareButton(reply({}, 50), commandLine('stats'), { ok: true });
    expect(full.blocks).toHaveLength(50);
    expect(full.blocks.at(-1)).toMatchObject({ type: 'actions', block_id: 'reply_share' });
    const refused = withShareButton(reply({}, 3), commandLine('stats'), { ok: false, reason: 'per_person' });
    expect(JSON.stringify(refused.blocks)).not.toContain('share_reply');
  });

  it('credits who shared, escaping the command', () => {
    const shared = buildSharedMessage(reply({}), {
      userId: 'U123ABC',
      command: 'stats where="country:<!here>"',
    });
    expect(JSON.stringify(shared.blocks.at(-1))).toContain(
      'Shared by <@U123ABC> · `/audience stats where=\\"country:&lt;!here&gt;\\"`',
    );
  });
});
