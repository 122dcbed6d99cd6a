import type { Profile, SegmentRun } from '../domain/types.ts';
import type { PredictionModel } from '../engine/predict.ts';
import type { UserRecommendations } from '../engine/recommend.ts';

/** What `/audience export` can write, one row per person. */
export const EXPORT_KINDS = ['segments', 'predictions', 'recommendations'] as const;
/** One of `EXPORT_KINDS`. */
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** A table ready to be written as CSV or JSON. */
export interface ExportTable {
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

/** Segment membership from a stored run: id, segment number (1-based, as shown to users), segment name. */
export function segmentLookup(run: SegmentRun | null): (id: string) => [number | null, string | null] {
  if (!run) return () => [null, null];
  const index = new Map<string, number>();
  run.user_ids.forEach((id, i) => {
    index.set(id, run.labels[i] as number);
  });
  return (id) => {
    const label = index.get(id);
    return label === undefined ? [null, null] : [label + 1, run.names[label] ?? null];
  };
}

/** id, segment, segment_name for every profile. */
export function segmentRows(profiles: readonly Profile[], run: SegmentRun | null): ExportTable {
  const segmentOf = segmentLookup(run);
  return {
    columns: ['id', 'segment', 'segment_name'],
    rows: profiles.map((p) => [p.id, ...segmentOf(p.id)]),
  };
}

/** id, segment, and the predicted value (rounded to cents) for every scored profile. */
export function predictionRows(
  scored: { userIds: readonly string[]; values: ArrayLike<number> },
  model: Pick<PredictionModel, 'target'>,
  run: SegmentRun | null,
): ExportTable {
  const segmentOf = segmentLookup(run);
  return {
    columns: ['id', 'segment', `predicted_${model.target}`],
    rows: scored.userIds.map((id, i) => [
      id,
      segmentOf(id)[0],
      Math.round((scored.values[i] as number) * 100) / 100,
    ]),
  };
}

/** id, segment, then item and score pairs for the top `n` recommendations of every profile. */
export function recommendationRows(
  results: readonly UserRecommendations[],
  n: number,
  run: SegmentRun | null,
): ExportTable {
  const segmentOf = segmentLookup(run);
  const columns = ['id', 'segment'];
  for (let i = 1; i <= n; i++) columns.push(`item_${i}`, `score_${i}`);
  const rows = results.map((r) => {
    const row: Array<string | number | null> = [r.userId, segmentOf(r.userId)[0]];
    for (let i = 0; i < n; i++) {
      const item = r.items[i];
      row.push(item?.itemId ?? null, item ? Number(item.score.toPrecision(4)) : null);
    }
    return row;
  });
  return { columns, rows };
}
