import { describe, expect, it } from 'vitest';
import type { ContentMetric } from '../../src/domain/types.ts';
import { summarizeContent } from '../../src/engine/content-metrics.ts';

const metric = (content: string, name: string, value: number, at = 1_000): ContentMetric => ({
  connection_id: 'ig',
  content_id: content,
  name,
  value,
  at,
});

describe('summarizeContent', () => {
  it('sums each metric over the content of a connection, reach first, and counts the items', () => {
    const [ig] = summarizeContent([
      {
        id: 'ig',
        kind: 'instagram',
        metrics: [
          metric('m1', 'saves', 3),
          metric('m1', 'reach', 100, 5_000),
          metric('m2', 'reach', 40),
          metric('m2', 'impressions', 90),
          metric('m3', 'zeta', 1),
        ],
      },
    ]);
    expect(ig).toEqual({
      connection: 'ig',
      kind: 'instagram',
      items: 3,
      totals: [
        { name: 'reach', value: 140 },
        { name: 'impressions', value: 90 },
        { name: 'saves', value: 3 },
        { name: 'zeta', value: 1 },
      ],
      latestAt: 5_000,
    });
  });

  it('leaves out connections without figures, and figures that are not numbers', () => {
    expect(
      summarizeContent([
        { id: 'shop', kind: 'shopify', metrics: [] },
        { id: 'yt', kind: 'youtube', metrics: [metric('v1', 'views', Number.NaN)] },
      ]),
    ).toEqual([]);
  });
});
