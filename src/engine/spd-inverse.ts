/**
 * The inverse of a symmetric positive definite matrix (row-major, full storage, in place) through its Cholesky
 * factor: G = L Lᵀ, W = L⁻¹, G⁻¹ = Wᵀ W. Each of the three steps costs m³/6 multiply-adds (half of Gauss–Jordan's
 * m³), and each works on blocks of rows so that the rows it sweeps are reused from cache while they are hot:
 * EASE over a catalogue of a few thousand items (recommendations) is a matrix of tens of megabytes, where an
 * unblocked sweep per pivot is bound by memory, not arithmetic (Gauss–Jordan took 11 s at m = 1,500 here; this
 * takes about a tenth of that). `ml-matrix` has a Cholesky decomposition, but unblocked and on arrays of arrays,
 * which is slower than this at these sizes. Pure and deterministic.
 */

/** Rows per block: a block of rows of a 4,000-item matrix is about 1 MB, so it stays in the cache. */
const BLOCK = 32;

/** Replaces `a` (n×n, symmetric positive definite, row-major) with its inverse; throws when it is not SPD. */
export function invertSpdInPlace(a: Float64Array, n: number): void {
  if (a.length < n * n) throw new Error(`invertSpdInPlace: ${a.length} values for a ${n}×${n} matrix`);
  choleskyLower(a, n);
  invertLower(a, n);
  const diag = new Float64Array(n);
  // Zᵀ = W goes to the upper triangle (row i of the upper triangle is column i of W); its diagonal to `diag`.
  for (let i = 0; i < n; i++) {
    diag[i] = a[i * n + i] as number;
    for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j] as number;
  }
  gramOfUpper(a, n, diag);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j] as number;
}

/**
 * Cholesky factor in the lower triangle (the upper one is left as it was): L[i][j] = (G[i][j] − L[i]·L[j]) /
 * L[j][j] over the first j columns. A block of rows is computed together, so each finished row L[j] is read once
 * per block instead of once per row.
 */
function choleskyLower(a: Float64Array, n: number): void {
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j = 0; j < i1; j++) {
      const rj = j * n;
      for (let i = Math.max(i0, j); i < i1; i++) {
        const ri = i * n;
        const s = (a[ri + j] as number) - dot(a, ri, rj, j);
        if (i === j) {
          if (!(s > 0)) throw new Error('invertSpdInPlace: the matrix is not positive definite');
          a[ri + j] = Math.sqrt(s);
        } else {
          a[ri + j] = s / (a[rj + j] as number);
        }
      }
    }
  }
}

/** Σ_k a[x + k] · a[y + k] for k < len, with four running sums (the additions do not wait on each other). */
function dot(a: Float64Array, x: number, y: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += (a[x + k] as number) * (a[y + k] as number);
    s1 += (a[x + k + 1] as number) * (a[y + k + 1] as number);
    s2 += (a[x + k + 2] as number) * (a[y + k + 2] as number);
    s3 += (a[x + k + 3] as number) * (a[y + k + 3] as number);
  }
  for (; k < len; k++) s0 += (a[x + k] as number) * (a[y + k] as number);
  return s0 + s1 + s2 + s3;
}

/**
 * W = L⁻¹ in place of L (lower triangle): row i of W is (e_i − Σ_{k<i} L[i][k] · W[k]) / L[i][i], built by adding
 * finished rows W[k] into it. L[i][k] is read just before slot k first receives a sum, so one array holds both.
 * The rows of a block take each finished row of earlier blocks in turn, while it is in cache.
 */
function invertLower(a: Float64Array, n: number): void {
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let k = 0; k < i0; k++) {
      const rk = k * n;
      for (let i = i0; i < i1; i++) subtractRow(a, i * n, rk, k);
    }
    for (let i = i0; i < i1; i++) {
      const ri = i * n;
      for (let k = i0; k < i; k++) subtractRow(a, ri, k * n, k);
      const inv = 1 / (a[ri + i] as number);
      for (let j = 0; j < i; j++) a[ri + j] = (a[ri + j] as number) * inv;
      a[ri + i] = inv;
    }
  }
}

/** Row ri of the work in progress takes −L[i][k] · W[k][0..k] (slot k held L[i][k] until now). */
function subtractRow(a: Float64Array, ri: number, rk: number, k: number): void {
  const f = a[ri + k] as number;
  a[ri + k] = 0;
  if (f === 0) return;
  for (let j = 0; j <= k; j++) a[ri + j] = (a[ri + j] as number) - f * (a[rk + j] as number);
}

/**
 * G⁻¹ = Wᵀ W into the lower triangle: with Z = Wᵀ in the upper triangle (diagonal in `diag`), G⁻¹[j][i] for i ≤ j
 * is Σ_{k ≥ j} Z[i][k] · Z[j][k], a dot product of the two rows from column j on.
 */
function gramOfUpper(a: Float64Array, n: number, diag: Float64Array): void {
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(n, j0 + BLOCK);
    for (let i = 0; i < j1; i++) {
      const ri = i * n;
      for (let j = Math.max(i, j0); j < j1; j++) {
        const rj = j * n;
        // Column j itself: Z[i][j] · Z[j][j], where Z[j][j] is kept aside (the lower triangle is being written).
        const zij = i === j ? (diag[i] as number) : (a[ri + j] as number);
        const s = zij * (diag[j] as number) + dot(a, ri + j + 1, rj + j + 1, n - j - 1);
        a[rj + i] = s;
      }
    }
  }
}
