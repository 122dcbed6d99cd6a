/**
 * Balanced sampling by the cube method (Deville & Tillé 2004, "Efficient balanced sampling: the cube method",
 * Biometrika 91(4); the fast flight phase of Chauvet & Tillé 2006). Each unit k is drawn with its own
 * probability π_k, as with independent coin flips, but the draws are made jointly so that the Horvitz-Thompson
 * totals of the auxiliary variables equal their true totals, Σ_k z_k S_k / π_k = Σ_k z_k, up to a few units'
 * worth of rounding instead of the O(√n) error of independent draws. The sample generator uses it to decide who
 * buys so that a regression on a small sample still recovers the planted coefficients.
 *
 * How: the vector of probabilities walks randomly inside the polytope the constraints allow. Each step takes
 * q + 1 undecided units (q constraints), moves along a direction that keeps every constraint exact until one
 * of them reaches 0 or 1, in either direction with the probabilities that keep E[π_k] unchanged (a martingale,
 * so the inclusion probabilities are respected). When only q units are left undecided, the last constraint is
 * dropped and the walk goes on (landing by suppression of variables), down to plain coin flips.
 */
import type { Rng } from '../domain/random.ts';

/** Undecided below this distance from 0 or 1 counts as decided (the walk's rounding). */
const EPS = 1e-11;

/**
 * Draws S_k ∈ {0, 1} with P(S_k = 1) = π_k, balanced on the q auxiliary variables: `aux` holds unit k's values in
 * aux[k·q .. k·q + q), and Σ_k aux_k S_k / π_k = Σ_k aux_k holds exactly after the flight phase, and to within
 * the dropped constraints' last few units after landing. Order the auxiliary variables by importance: the last
 * is dropped first. Units with π_k = 0 or 1 are taken as they are. Deterministic for the Rng's state.
 */
export function balancedSample(
  pi: ArrayLike<number>,
  aux: ArrayLike<number>,
  q: number,
  rng: Rng,
): Uint8Array {
  const n = pi.length;
  checkInput(pi, aux, q);
  const p = Float64Array.from(pi);
  // The constraint columns a_k = z_k / π_k, scaled per variable so the elimination's tolerance means the same
  // for every variable (scaling a constraint does not change which moves keep it).
  const a = new Float64Array(n * q);
  const scale = new Float64Array(q);
  for (let k = 0; k < n; k++) {
    const pk = p[k] as number;
    if (pk <= 0 || pk >= 1) continue;
    for (let j = 0; j < q; j++) {
      const v = (aux[k * q + j] as number) / pk;
      a[k * q + j] = v;
      scale[j] = Math.max(scale[j] as number, Math.abs(v));
    }
  }
  for (let k = 0; k < n; k++)
    for (let j = 0; j < q; j++)
      if ((scale[j] as number) > 0) a[k * q + j] = (a[k * q + j] as number) / (scale[j] as number);
  const order = shuffled(n, rng);
  const walk = new Walk(p, a, q);
  let cursor = 0;
  for (let active = q; active >= 0; active--) {
    walk.constraints = active;
    for (;;) {
      // Refill the working set with the next undecided units, in the shuffled order.
      while (walk.size < active + 1 && cursor < n) {
        const k = order[cursor++] as number;
        if (undecided(p[k] as number)) walk.add(k);
      }
      if (walk.size < active + 1) break;
      walk.step(rng);
    }
  }
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = (p[k] as number) > 0.5 ? 1 : 0;
  return out;
}

function checkInput(pi: ArrayLike<number>, aux: ArrayLike<number>, q: number): void {
  if (!Number.isInteger(q) || q < 0) throw new RangeError(`q must be a non-negative integer, got ${q}`);
  if (aux.length !== pi.length * q)
    throw new RangeError(`aux must hold ${pi.length} × ${q} values, got ${aux.length}`);
  for (let k = 0; k < pi.length; k++) {
    const v = pi[k] as number;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`inclusion probability ${k} must be in [0, 1], got ${v}`);
  }
  for (let i = 0; i < aux.length; i++)
    if (!Number.isFinite(aux[i] as number)) throw new RangeError(`auxiliary value ${i} is not finite`);
}

function undecided(p: number): boolean {
  return p > EPS && p < 1 - EPS;
}

/** 0..n-1 in a seeded random order (the Rng's Fisher-Yates). */
function shuffled(n: number, rng: Rng): Int32Array {
  return Int32Array.from(rng.shuffle(Array.from({ length: n }, (_, k) => k)));
}

/** The working set of the fast flight phase: at most q + 1 undecided units and the scratch to move them. */
class Walk {
  constraints: number;
  size = 0;
  private readonly units: Int32Array;
  private readonly m: Float64Array;
  private readonly u: Float64Array;
  private readonly pivotCol: Int32Array;

  constructor(
    private readonly p: Float64Array,
    private readonly a: Float64Array,
    private readonly q: number,
  ) {
    this.constraints = q;
    this.units = new Int32Array(q + 1);
    this.m = new Float64Array(q * (q + 1));
    this.u = new Float64Array(q + 1);
    this.pivotCol = new Int32Array(q);
  }

  add(k: number): void {
    this.units[this.size++] = k;
  }

  /** One move of the walk: a direction in the null space, then a coin for its sign; drops the decided units. */
  step(rng: Rng): void {
    const { p, u, units, size } = this;
    this.nullVector();
    let up = Number.POSITIVE_INFINITY;
    let down = Number.POSITIVE_INFINITY;
    for (let s = 0; s < size; s++) {
      const us = u[s] as number;
      const ps = p[units[s] as number] as number;
      if (us > 0) {
        up = Math.min(up, (1 - ps) / us);
        down = Math.min(down, ps / us);
      } else if (us < 0) {
        up = Math.min(up, ps / -us);
        down = Math.min(down, (1 - ps) / -us);
      }
    }
    // E[move] = 0: go up by `up` with probability down / (up + down), else down by `down`.
    const lambda = rng.next() * (up + down) < down ? up : -down;
    let kept = 0;
    for (let s = 0; s < size; s++) {
      const k = units[s] as number;
      let v = (p[k] as number) + lambda * (u[s] as number);
      if (v <= EPS) v = 0;
      else if (v >= 1 - EPS) v = 1;
      p[k] = v;
      if (undecided(v)) units[kept++] = k;
    }
    // The bound that was hit is exact in real numbers; rounding may leave it a hair inside, so decide it.
    if (kept === size) {
      const s = this.closestToBound();
      const k = units[s] as number;
      p[k] = (p[k] as number) > 0.5 ? 1 : 0;
      units[s] = units[--kept] as number;
    }
    this.size = kept;
  }

  private closestToBound(): number {
    let best = 0;
    let dist = Number.POSITIVE_INFINITY;
    for (let s = 0; s < this.size; s++) {
      const v = this.p[this.units[s] as number] as number;
      const d = Math.min(v, 1 - v);
      if (d < dist) {
        dist = d;
        best = s;
      }
    }
    return best;
  }

  /** u ≠ 0 with Σ_s a_{units[s], j} u_s = 0 for the first `constraints` variables (Gaussian elimination). */
  private nullVector(): void {
    const { m, u, pivotCol, a, q, units } = this;
    const rows = this.constraints;
    const cols = this.size;
    for (let r = 0; r < rows; r++)
      for (let s = 0; s < cols; s++) m[r * cols + s] = a[(units[s] as number) * q + r] as number;
    let rank = 0;
    for (let c = 0; c < cols && rank < rows; c++) {
      let best = rank;
      for (let r = rank + 1; r < rows; r++)
        if (Math.abs(m[r * cols + c] as number) > Math.abs(m[best * cols + c] as number)) best = r;
      if (Math.abs(m[best * cols + c] as number) < 1e-12) continue;
      if (best !== rank)
        for (let s = 0; s < cols; s++) {
          const t = m[best * cols + s] as number;
          m[best * cols + s] = m[rank * cols + s] as number;
          m[rank * cols + s] = t;
        }
      const pivot = m[rank * cols + c] as number;
      for (let r = 0; r < rows; r++) {
        if (r === rank) continue;
        const f = (m[r * cols + c] as number) / pivot;
        if (f === 0) continue;
        for (let s = c; s < cols; s++)
          m[r * cols + s] = (m[r * cols + s] as number) - f * (m[rank * cols + s] as number);
      }
      pivotCol[rank++] = c;
    }
    // A free column gets 1, the other free ones 0; each pivot variable then follows from its reduced row.
    u.fill(0, 0, cols);
    let free = cols - 1;
    for (let r = rank - 1; r >= 0 && pivotCol[r] === free; r--) free--;
    if (free < 0) free = 0;
    u[free] = 1;
    for (let r = 0; r < rank; r++) {
      const c = pivotCol[r] as number;
      u[c] = -(m[r * cols + free] as number) / (m[r * cols + c] as number);
    }
  }
}
