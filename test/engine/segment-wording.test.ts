import { describe, expect, it } from 'vitest';
import { nameSegments, traitText } from '../../src/engine/segment-wording.ts';

const stats = (segMedian: number, allMedian: number) => ({ segMedian, allMedian, segMean: 0, allMean: 0 });

describe('trait wording', () => {
  it('says every difference one way, with one minus sign', () => {
    expect(traitText('views_per_week', stats(0.5, 1), false, null)).toMatch(/, −50% vs the audience$/);
    expect(traitText('views_per_week', stats(0.67, 1), false, null)).toMatch(/, −33% vs the audience$/);
    expect(traitText('views_per_week', stats(1.2, 1), false, null)).toMatch(/, \+20% vs the audience$/);
    expect(traitText('views_per_week', stats(2, 1), false, null)).toMatch(/, 2\.0x the audience$/);
    for (const seg of [0.1, 0.5, 0.67, 0.9, 1.2]) {
      expect(traitText('views_per_week', stats(seg, 1), false, null)).not.toMatch(/below|-\d/);
    }
  });

  it('gives the audience median next to a median of 0 instead of "100% below the audience"', () => {
    expect(traitText('views_per_week', stats(0, 2.3), false, null)).toBe(
      'median 0 views/week, audience median 2.3',
    );
  });
});

describe('segment names', () => {
  const features = ['log_followers', 'views_per_week', 'active_days_per_week', 'purchases_per_month'];
  // Below the audience in followers, viewing, active days and buying: the z-profile of a rarely-active segment.
  const low = [-0.4, -0.7, -0.8, -0.2];
  const other = [1.6, 0.1, 0.1, -0.2];

  it('does not call a segment whose typical member did nothing "browsers": median 0 views and active days', () => {
    const idle = [0, 0, 0, 0];
    const busy = [1.2, 0.9, 1, 0];
    expect(nameSegments(features, [low, other], [idle, busy])[0]).toBe('Dormant followers');
    // The same z-profile whose typical member does come by now and then browses.
    expect(nameSegments(features, [low, other], [[40, 0.3, 0.2, 0], busy])[0]).toBe('Casual browsers');
    // Without medians (a caller that has none), the z-profile alone decides.
    expect(nameSegments(features, [low, other])[0]).toBe('Casual browsers');
  });
});
