import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import {
  actions,
  button,
  capBlocks,
  context,
  escapeMrkdwn,
  fields,
  header,
  LIMITS,
  section,
  truncate,
} from '../../src/blocks/kit.ts';

describe('Block Kit primitives', () => {
  it('escapes the characters that would mention, ping or link', () => {
    expect(escapeMrkdwn('<!channel> & <@U123> <https://evil|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;',
    );
  });

  it('truncates with an ellipsis and never leaves half an entity or surrogate pair', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('ab&amp;cd', 5)).toBe('ab…');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(truncate('short', 10)).toBe('short');
  });

  it('keeps every element inside Slack limits for oversized input', () => {
    const long = 'x'.repeat(10_000);
    const h = header(long);
    expect(h.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    expect(section(long).text?.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const f = fields(Array.from({ length: 30 }, () => long));
    expect(f.fields).toHaveLength(LIMITS.fieldCount);
    expect(f.fields?.at(-1)?.text).toBe('…and 21 more');
    for (const field of f.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    expect(context(Array.from({ length: 12 }, (_, i) => `c${i}`)).elements).toHaveLength(
      LIMITS.contextElements,
    );
    const b = button(long, long, long);
    expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
    expect(b.action_id?.length).toBeLessThanOrEqual(LIMITS.actionId);
    expect(actions(Array.from({ length: 40 }, () => b)).elements).toHaveLength(LIMITS.actionsElements);
  });

  it('caps a message at 50 blocks and says how many were left out', () => {
    const blocks: KnownBlock[] = Array.from({ length: 70 }, (_, i) => section(`b${i}`));
    const capped = capBlocks(blocks);
    expect(capped).toHaveLength(50);
    expect(JSON.stringify(capped.at(-1))).toContain('…and 21 more blocks');
    expect(capBlocks(blocks, LIMITS.surfaceBlocks)).toHaveLength(70);
  });
});
