/**
 * Clustering quality metrics, for tests and evaluation (pure).
 */

/** Adjusted Rand index between two labelings of the same items: 1 = identical partitions, ~0 = chance. */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`labelings differ in length: ${a.length} vs ${b.length}`);
  const n = a.length;
  if (n < 2) return 1;
  const aIds = denseIds(a);
  const bIds = denseIds(b);
  const ka = aIds.count;
  const kb = bIds.count;
  const table = new Float64Array(ka * kb);
  const rows = new Float64Array(ka);
  const cols = new Float64Array(kb);
  for (let i = 0; i < n; i++) {
    const x = aIds.ids[i] as number;
    const y = bIds.ids[i] as number;
    table[x * kb + y] = (table[x * kb + y] as number) + 1;
    rows[x] = (rows[x] as number) + 1;
    cols[y] = (cols[y] as number) + 1;
  }
  let sumCells = 0;
  for (let i = 0; i < table.length; i++) sumCells += choose2(table[i] as number);
  let sumRows = 0;
  for (let i = 0; i < ka; i++) sumRows += choose2(rows[i] as number);
  let sumCols = 0;
  for (let j = 0; j < kb; j++) sumCols += choose2(cols[j] as number);
  const total = choose2(n);
  const expected = (sumRows * sumCols) / total;
  const max = (sumRows + sumCols) / 2;
  // Both partitions trivial (all one cluster, or all singletons) and equal: perfect agreement.
  if (max === expected) return 1;
  return (sumCells - expected) / (max - expected);
}

/**
 * Mean silhouette of `labels` over the rows of `points` (Euclidean); exact, O(n²·d), so callers pass a sample.
 * Points in singleton clusters score 0.
 */
export function silhouette(points: ArrayLike<number>[], labels: ArrayLike<number>, k: number): number {
  return silhouetteFromDistances(pairwiseDistances(points), points.length, labels, k);
}

/** Mean silhouette from a precomputed condensed distance matrix (see `pairwiseDistances`). */
export function silhouetteFromDistances(
  dist: Float64Array,
  n: number,
  labels: ArrayLike<number>,
  k: number,
): number {
  if (n < 2 || k < 2) return 0;
  const sums = new Float64Array(n * k);
  const sizes = new Float64Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i] as number] = (sizes[labels[i] as number] as number) + 1;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const li = labels[i] as number;
    for (let j = i + 1; j < n; j++) {
      const dv = dist[pos++] as number;
      const lj = labels[j] as number;
      sums[i * k + lj] = (sums[i * k + lj] as number) + dv;
      sums[j * k + li] = (sums[j * k + li] as number) + dv;
    }
  }
  return silhouetteFromSums(sums, sizes, labels, n, k);
}

/** Condensed upper-triangle Euclidean distances (i < j, row-major) of the rows of `points`. */
export function pairwiseDistances(points: ArrayLike<number>[]): Float64Array {
  const n = points.length;
  const out = new Float64Array((n * (n - 1)) / 2);
  if (n === 0) return out;
  const d = (points[0] as ArrayLike<number>).length;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const p = points[i] as ArrayLike<number>;
    for (let j = i + 1; j < n; j++) {
      const q = points[j] as ArrayLike<number>;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = (p[t] as number) - (q[t] as number);
        s += diff * diff;
      }
      out[pos++] = Math.sqrt(s);
    }
  }
  return out;
}

function silhouetteFromSums(
  sums: Float64Array,
  sizes: Float64Array,
  labels: ArrayLike<number>,
  n: number,
  k: number,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const li = labels[i] as number;
    const own = sizes[li] as number;
    if (own <= 1) continue;
    const a = (sums[i * k + li] as number) / (own - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (c === li || (sizes[c] as number) === 0) continue;
      const m = (sums[i * k + c] as number) / (sizes[c] as number);
      if (m < b) b = m;
    }
    if (!Number.isFinite(b)) continue;
    const denom = Math.max(a, b);
    total += denom > 0 ? (b - a) / denom : 0;
  }
  return total / n;
}

function denseIds(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    let id = map.get(l);
    if (id === undefined) {
      id = map.size;
      map.set(l, id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}

function choose2(x: number): number {
  return (x * (x - 1)) / 2;
}
