/** Chart inputs shared by the chart tests and the benchmark: realistic, one row, twelve rows, empty. */
import type { SegmentPoint, SegmentWeek } from '../../src/charts/types.ts';

const WEEK = 7 * 24 * 60 * 60 * 1000;
/** Monday 3 March 2025, 00:00 UTC. */
const START = Date.UTC(2025, 2, 3);

/** Five realistic segment names, the way the engine names them. */
export const FIVE_NAMES = [
  'Loyal big spenders',
  'Bargain hunters',
  'New this month',
  'Lapsed buyers',
  'Window shoppers',
];

/** Twelve names, some long enough to need shortening, two that only differ after the cut. */
export const TWELVE_NAMES = [
  'Loyal big spenders',
  'Bargain hunters',
  'New this month',
  'Lapsed buyers',
  'Window shoppers',
  'Weekend mobile browsers in the Nordics',
  'Weekend mobile browsers in Southern Europe',
  'High-intent cart abandoners (last 14 days)',
  'Gift buyers',
  'Newsletter-only readers with no purchases yet',
  'VIP',
  'Students',
];

function sizesOverTime(names: readonly string[], weeks: number): SegmentWeek[] {
  return Array.from({ length: weeks }, (_, w) => ({
    weekStart: START + w * WEEK,
    segments: names.map((name, i) => ({
      name,
      size: Math.round((3200 / (i + 1)) * (1 + 0.04 * w * (i % 3 === 0 ? 1 : -0.5))),
    })),
  }));
}

/** Inputs for each chart, keyed by case. */
export const cases = {
  sizes: {
    realistic: sizesOverTime(FIVE_NAMES, 10),
    one: sizesOverTime(['Everyone'], 8),
    twelve: sizesOverTime(TWELVE_NAMES, 8),
    empty: [] as SegmentWeek[],
  },
  map: {
    realistic: FIVE_NAMES.map((name, i) => ({
      name,
      x: 20 + i * 17.5,
      y: 0.5 + ((i * 7) % 5) * 0.8,
      size: Math.round(3000 / (i + 1)),
    })),
    one: [{ name: 'Everyone', x: 42, y: 2.1, size: 8400 }],
    twelve: TWELVE_NAMES.map((name, i) => ({
      name,
      x: 10 + ((i * 37) % 100),
      y: 0.2 + ((i * 53) % 40) / 10,
      size: 150 + ((i * 911) % 3000),
    })),
    empty: [] as SegmentPoint[],
  },
} as const;

/** Axis names for the segment map. */
export const MAP_AXES = { x: 'Average order value (USD)', y: 'Purchases per month' };
