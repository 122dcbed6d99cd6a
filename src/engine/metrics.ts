/**
 * Clustering quality: the silhouette that segmentation uses to choose k (pure). The adjusted Rand index, which
 * only tests use, lives in test/support/clustering.ts.
 */

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
