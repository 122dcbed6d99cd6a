import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/blocks/plain-text.ts';
import { buildSegmentsMessage } from '../../src/blocks/segments-message.ts';
import type { SegmentResult } from '../../src/engine/segments.ts';

function result(imputed: Record<string, number>, sizes: number[]): SegmentResult {
  const total = sizes.reduce((a, b) => a + b, 0);
  return {
    k: sizes.length,
    features: ['avg_order_value', 'monetary'],
    scaling: 'zscore',
    segments: sizes.map((size, index) => ({
      index,
      name: `Group ${index + 1}`,
      size,
      share: size / total,
      revenueShare: size / total,
      traits: [],
      centroid: [0, 0],
    })),
    labels: new Int32Array(0),
    userIds: new Array<string>(total).fill('x'),
    total,
    quality: { silhouette: 0.5, betweenOverTotal: 0.7, withinSS: 1 },
    sampled: null,
    imputed,
  };
}

describe('the segments reply', () => {
  it('says how many people had a value filled in, as a formatted count (not "avg_order_value 563788")', () => {
    const text = renderText(
      buildSegmentsMessage(result({ avg_order_value: 563_788, monetary: 1 }, [600_000, 400_000]), {
        command: 'segments',
      }),
    );
    expect(text).toContain(
      'missing values filled with the median: avg_order_value for 564k people, monetary for 1 person',
    );
    expect(text).not.toMatch(/avg_order_value 563788/);
  });

  it('says "1 person", never "1 people"', () => {
    const text = renderText(buildSegmentsMessage(result({}, [1, 40]), { command: 'segments' }));
    expect(text).toMatch(/\b1 person\b/);
    expect(text).not.toMatch(/\b1 people\b/);
  });
});
