import { describe, expect, it } from 'vitest';
import { commandButton } from '../../src/blocks/command-buttons.ts';
import { actions, button, context, divider, fields, header, section } from '../../src/blocks/kit.ts';
import { plain, renderText } from '../../src/blocks/plain-text.ts';

describe('renderText', () => {
  it('renders header, fields in two columns, context and buttons as [Label]', () => {
    const text = renderText({
      text: 'fallback',
      blocks: [
        header('Audience'),
        fields(['*Size*\n12.3k', '*Active*\n4k']),
        section('*Top:* US 30% &amp; DE 12%'),
        divider(),
        context(['As of today']),
        actions([button('Share to channel', 'share'), button('More', 'more')]),
      ],
    });
    expect(text).toContain('Audience\n════════');
    expect(text).toMatch(/Size\s+Active\n12\.3k\s+4k/);
    expect(text).toContain('Top: US 30% & DE 12%');
    expect(text).toContain('  · As of today');
    expect(text).toContain('[Share to channel] [More]');
  });

  it('stacks a pair of fields whose left one is too wide for its column, instead of running them together', () => {
    const wide = '22% of 1.9k followers (no views recorded, so reach is unknown)';
    const text = renderText({
      text: 'fallback',
      blocks: [
        fields([`*Engagement rate*\n${wide}`, '*Purchasers*\n33 · 1.8%', '*Size*\n1.9k', '*Active*\n442']),
      ],
    });
    expect(text).toContain(`Engagement rate\n${wide}\nPurchasers\n33 · 1.8%`);
    expect(text).toMatch(/Size\s+Active\n1\.9k\s+442/);
  });

  it('falls back to the text when there are no blocks', () => {
    expect(renderText({ text: '*hi* &lt;there&gt;', blocks: [] })).toBe('hi <there>');
  });

  it('unescapes entities after stripping emphasis so escaped user text reads as typed', () => {
    expect(plain('&lt;!channel&gt; *bold* _it_ <https://x.y|link>')).toBe(
      '<!channel> bold it link (https://x.y)',
    );
  });

  it('shows channel and user mentions and emoji codes the way Slack would', () => {
    expect(plain(':white_check_mark: to <#C0GROWTH1> and <#C0MKT|marketing> by <@U123>')).toBe(
      '✅ to #C0GROWTH1 and #marketing by @U123',
    );
    expect(plain(':unknown_code:')).toBe(':unknown_code:');
  });

  it('shows every emoji the builders use as a symbol, and what a command button would run', () => {
    for (const code of ['wastebasket', 'no_entry_sign', 'double_vertical_bar', 'arrow_forward', 'warning']) {
      expect(plain(`:${code}:`), code).not.toContain(':');
    }
    const buttons = [
      commandButton('Recommend for this segment', '/audience recommend segment=1'),
      commandButton('Predict for this segment', 'predict segment=1'),
    ].filter((b) => b !== null);
    expect(renderText({ text: 'x', blocks: [actions(buttons)] })).toBe(
      'Recommend for this segment: /audience recommend segment=1\nPredict for this segment: /audience predict segment=1',
    );
  });
});
