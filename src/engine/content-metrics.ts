/**
 * The platforms' own insights about content (reach, impressions, saves, views of each post or video, as the
 * connectors sync them), summed per connection for `stats`. Aggregates about content, not about people.
 */
import type { ContentMetric } from '../domain/types.ts';

/** The latest insights of one connection's content, summed. */
export interface ContentSummary {
  connection: string;
  kind: string;
  /** Posts or videos with at least one figure. */
  items: number;
  /** Sum over the items of each metric's latest value, in display order (reach first). */
  totals: Array<{ name: string; value: number }>;
  /** When the newest figure was measured (epoch ms). */
  latestAt: number;
}

const ORDER = ['reach', 'impressions', 'views', 'saves', 'likes', 'comments', 'shares'];

function rank(name: string): number {
  const at = ORDER.indexOf(name);
  return at === -1 ? ORDER.length : at;
}

/** Sums each connection's latest metrics; connections without any are left out. */
export function summarizeContent(
  connections: ReadonlyArray<{ id: string; kind: string; metrics: readonly ContentMetric[] }>,
): ContentSummary[] {
  const out: ContentSummary[] = [];
  for (const { id, kind, metrics } of connections) {
    if (metrics.length === 0) continue;
    const items = new Set<string>();
    const totals = new Map<string, number>();
    let latestAt = 0;
    for (const m of metrics) {
      if (!Number.isFinite(m.value)) continue;
      items.add(m.content_id);
      totals.set(m.name, (totals.get(m.name) ?? 0) + m.value);
      latestAt = Math.max(latestAt, m.at);
    }
    if (items.size === 0) continue;
    const ordered = [...totals]
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
    out.push({ connection: id, kind, items: items.size, totals: ordered, latestAt });
  }
  return out;
}
