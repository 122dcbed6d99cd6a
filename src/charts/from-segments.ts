import { featureLabel } from '../engine/predict.ts';
import type { SegmentResult } from '../engine/segments.ts';
import { segmentMap } from './specs.ts';
import type { ChartSpec } from './types.ts';

/**
 * The segment map for a segmentation: segments placed on the two features whose centroids spread the most
 * (in standard deviations of the audience, so the axes are comparable), bubble area = members.
 */
export function segmentMapFor(result: SegmentResult): ChartSpec {
  const d = result.features.length;
  const spread = Array.from({ length: d }, (_, f) => {
    let sum = 0;
    let weight = 0;
    for (const s of result.segments) {
      sum += s.size * (s.centroid[f] ?? 0) ** 2;
      weight += s.size;
    }
    return weight > 0 ? sum / weight : 0;
  });
  const order = spread.map((v, f) => [v, f] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const x = order[0]?.[1] ?? 0;
  const y = order[1]?.[1] ?? x;
  // Centroids are in standard deviations from the audience average, which keeps the two axes comparable.
  const label = (f: number) => `${featureLabel(result.features[f] ?? '')} (σ)`;
  return segmentMap(
    result.segments.map((s) => ({
      name: s.name,
      x: s.centroid[x] ?? 0,
      y: s.centroid[y] ?? 0,
      size: s.size,
    })),
    { x: label(x), y: label(y) },
  );
}
