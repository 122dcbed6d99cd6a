import { describe, expect, it } from 'vitest';
import { assertWithinLimits, findBroadcastMentions } from './block-limits.ts';
import { buttonPress } from './signed-request.ts';

const text = (t: string, type = 'mrkdwn') => ({ type, text: t });

describe('assertWithinLimits', () => {
  it('accepts a payload inside every limit', () => {
    const blocks = [
      { type: 'header', text: text('Title', 'plain_text') },
      {
        type: 'section',
        text: text('x'.repeat(3000)),
        fields: Array.from({ length: 10 }, () => text('y'.repeat(2000))),
      },
      { type: 'context', elements: Array.from({ length: 10 }, () => text('z')) },
      {
        type: 'actions',
        block_id: 'b'.repeat(255),
        elements: Array.from({ length: 25 }, (_, i) => ({
          type: 'button',
          text: text('L'.repeat(75), 'plain_text'),
          action_id: `${i}`.padEnd(255, 'a'),
          value: 'v'.repeat(2000),
        })),
      },
      { type: 'divider' },
    ];
    expect(assertWithinLimits(blocks, 'message')).toEqual([]);
  });

  it('reports each broken limit with its path', () => {
    const blocks = [
      { type: 'header', text: text('h'.repeat(151), 'plain_text') },
      { type: 'header', text: text('mrkdwn header') },
      { type: 'section', text: text('x'.repeat(3001)) },
      { type: 'section', fields: Array.from({ length: 11 }, () => text('y')) },
      { type: 'section', fields: [text('y'.repeat(2001))] },
      { type: 'section' },
      { type: 'section', text: text('') },
      { type: 'context', elements: Array.from({ length: 11 }, () => text('z')) },
      {
        type: 'actions',
        block_id: 'b'.repeat(256),
        elements: Array.from({ length: 26 }, () => ({
          type: 'button',
          text: text('L'.repeat(76), 'plain_text'),
          action_id: 'a'.repeat(256),
          value: 'v'.repeat(2001),
        })),
      },
      { type: 'divider', block_id: 'same' },
      { type: 'divider', block_id: 'same' },
    ];
    const rules = assertWithinLimits(blocks, 'message').map((v) => `${v.path} ${v.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'blocks[0].text.text text too long',
        'blocks[1].text.type must be plain_text',
        'blocks[2].text.text text too long',
        'blocks[3].fields too many fields',
        'blocks[4].fields[0].text text too long',
        'blocks[5] section needs text or fields',
        'blocks[6].text.text text is empty',
        'blocks[7].elements too many context elements',
        'blocks[8].block_id block_id too long',
        'blocks[8].elements too many action elements',
        'blocks[8].elements[0].text.text text too long',
        'blocks[8].elements[0].action_id action_id too long',
        'blocks[8].elements[0].value button value too long',
        'blocks[8].elements[1].action_id action_id repeated in one block',
        'blocks[10].block_id block_id repeated in one payload',
      ]),
    );
  });

  it('allows 100 blocks on the Home tab and in modals but 50 in messages', () => {
    const blocks = Array.from({ length: 100 }, () => ({ type: 'divider' }));
    expect(assertWithinLimits(blocks, 'home')).toEqual([]);
    expect(assertWithinLimits(blocks, 'modal')).toEqual([]);
    expect(assertWithinLimits(blocks, 'message').map((v) => v.rule)).toEqual([
      'too many blocks for a message',
    ]);
    expect(assertWithinLimits([...blocks, { type: 'divider' }], 'home')).toHaveLength(1);
  });

  it('never throws on garbage', () => {
    for (const junk of [
      null,
      'x',
      3,
      [null],
      [{ type: 'section', text: 5 }],
      [{ type: 'actions', elements: 'x' }],
    ]) {
      expect(() => assertWithinLimits(junk, 'message')).not.toThrow();
      expect(assertWithinLimits(junk, 'message').length).toBeGreaterThan(0);
    }
  });
});

describe('findBroadcastMentions', () => {
  it('finds channel-wide mentions only in text Slack reads as mrkdwn', () => {
    const payload = {
      text: 'hi <!here>',
      blocks: [
        { type: 'header', text: text('<!channel> is plain here', 'plain_text') },
        { type: 'section', text: text('ping <!everyone>') },
        {
          type: 'actions',
          elements: [{ type: 'button', text: text('b', 'plain_text'), value: '<!channel>' }],
        },
      ],
    };
    expect(findBroadcastMentions(payload)).toEqual(['$.text', '$.blocks[1].text.text']);
    expect(
      findBroadcastMentions(
        JSON.parse(buttonPress({ actionId: 'a', value: 'v', responseUrl: 'u' }).payload ?? '{}'),
      ),
    ).toEqual([]);
  });
});
