import { describe, expect, it } from 'vitest';
import { traitText } from '../../src/engine/segment-wording.ts';

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
