/**
 * Clustering agreement for tests: the adjusted Rand index between two labelings (moved out of src/engine/metrics.ts,
 * which keeps what the app uses).
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
