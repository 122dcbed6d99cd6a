/**
 * Who buys, and for how much, when only a realistic share of the audience buys in a month. The planted spend
 * model keeps its shape: E[spend in a window | x] = c · x'β, with c = 1 at the planted scale, or chosen so that
 * about `buyerShare` of the profiles alive through a window buy in it. Each profile-window first gets an amount a
 * (log-normal around its persona's `windowSpend`), then buys with probability p = c · x'β / a, so
 * E[a · buys | x] = c · x'β.
 *
 * Independent coin flips would leave Σ x (a · buys − c · x'β) of order √n, which at a few percent of buyers
 * moves the least-squares coefficients by 15–150% on a 5,000-profile window. So the
 * buyers of each window are drawn by balanced sampling (`balancedSample`, the cube method), balanced on x · a,
 * which leaves a few buyers' worth; then the buyers' amounts are calibrated (each moved by x'γ, γ the least-squares
 * fix over the buyers) so that the sum is 0 to the cent. Least squares on any one window then returns c · β, by
 * construction; without the calibration (`calibrate: false`) the large coefficients come back within about 1.5%
 * and the cent-sized ones do not (`npm run bench -- hurdle`, "Spend model" in data/README.md).
 */
import type { Rng } from '../domain/random.ts';
import { balancedSample } from '../engine/balanced-sample.ts';
import { invertSpdInPlace } from '../engine/spd-inverse.ts';

/** Length of x: 1 (the intercept), then the four planted features. */
export const SPEND_TERMS = 5;

/** What the draw reads per profile (row i), and the windows aligned to `end`. */
export interface BuyerInput {
  /** x'β per profile, at scale 1. */
  mus: Float64Array;
  /** x per profile, row-major n × SPEND_TERMS. */
  x: Float64Array;
  createdAt: Float64Array;
  /** Median amount a buyer of the profile's persona spends in a window. */
  windowSpend: Float64Array;
  end: number;
  windows: number;
  windowMs: number;
  /** Unset: the planted scale (c = 1). */
  buyerShare: number | undefined;
  amountLogSd: number;
  /** False: leave the buyers' amounts as drawn (to measure what the calibration does). */
  calibrate: boolean;
}

/** The amounts, window w of profile i at [i · windows + w] (0: no purchase), and what the draw measured. */
export interface BuyerDraw {
  amounts: Float64Array;
  /** c: the planted coefficients of this sample are c · β. */
  scale: number;
  /** Windows inside both the period and the profile's life, with a purchase, and with p clipped to [0, 1]. */
  userWindows: number;
  buyerWindows: number;
  clippedWindows: number;
  /** Mean of Var(spend | x, a) = a² p (1 − p) over the full windows. */
  meanNoise: number;
  /** Mean |calibration change| / amount over the full windows' buyers. */
  meanAmountShift: number;
}

/** Draws every window's buyers and amounts; deterministic for the Rng's state. */
export function drawBuyers(input: BuyerInput, rng: Rng): BuyerDraw {
  const { mus, createdAt, end, windows, windowMs, buyerShare, amountLogSd: sd } = input;
  const n = mus.length;
  // E[1 / a] = exp(−sd² / 2) / windowSpend for the draw below, so c makes the expected share of buyers among the
  // full windows buyerShare (buying and being new are not independent: the loyal buyers joined long ago).
  let expectedBuyers = 0;
  let fullWindows = 0;
  for (let i = 0; i < n; i++) {
    const full = Math.max(0, Math.min(windows, Math.floor((end - (createdAt[i] as number)) / windowMs)));
    fullWindows += full;
    expectedBuyers +=
      (full * Math.max(0, mus[i] as number) * Math.exp((-sd * sd) / 2)) / (input.windowSpend[i] as number);
  }
  const scale =
    buyerShare === undefined ? 1 : expectedBuyers > 0 ? (buyerShare * fullWindows) / expectedBuyers : 0;
  const out: BuyerDraw = {
    amounts: new Float64Array(n * windows),
    scale,
    userWindows: 0,
    buyerWindows: 0,
    clippedWindows: 0,
    meanNoise: 0,
    meanAmountShift: 0,
  };
  let shifts = 0;
  for (let w = 0; w < windows; w++) {
    const wEnd = end - w * windowMs;
    const full: number[] = [];
    const amounts: number[] = [];
    for (let i = 0; i < n; i++) {
      const born = createdAt[i] as number;
      if (wEnd <= born) continue;
      const a = drawAmount(rng, input.windowSpend[i] as number, sd);
      if (wEnd - windowMs >= born) {
        full.push(i);
        amounts.push(a);
      } else if (rng.next() < (scale * (mus[i] as number) * (wEnd - born)) / windowMs / a) {
        // The window in which the profile was created: an independent draw, pro-rated to the part it lived.
        out.amounts[i * windows + w] = a;
      }
    }
    shifts += drawWindow(input, out, w, full, amounts, rng);
  }
  out.meanNoise = out.userWindows > 0 ? out.meanNoise / out.userWindows : 0;
  out.meanAmountShift = out.buyerWindows > 0 ? shifts / out.buyerWindows : 0;
  return out;
}

/** A buyer's amount: log-normal, drawn so that the buyers' median (buying tilts the draw by 1 / a) is `median`. */
function drawAmount(rng: Rng, median: number, sd: number): number {
  return Math.max(0.01, Math.round(median * Math.exp(sd * sd + rng.normal(0, sd)) * 100) / 100);
}

/** One window's balanced draw over its full-window profiles; returns the sum of relative calibration changes. */
function drawWindow(
  input: BuyerInput,
  out: BuyerDraw,
  w: number,
  units: number[],
  amounts: number[],
  rng: Rng,
): number {
  const q = SPEND_TERMS;
  const { mus, x, windows } = input;
  const pi = new Float64Array(units.length);
  const aux = new Float64Array(units.length * q);
  units.forEach((i, k) => {
    const mu = out.scale * (mus[i] as number);
    const a = amounts[k] as number;
    const p = Math.min(1, Math.max(0, mu / a));
    out.userWindows++;
    if (mu <= 0 || mu > a) out.clippedWindows++;
    out.meanNoise += a * a * p * (1 - p);
    pi[k] = p;
    // Balanced on x · a: Σ x · a · buys / p = Σ x · a, that is Σ x · a · buys ≈ Σ x · mu.
    for (let j = 0; j < q; j++) aux[k * q + j] = (x[i * q + j] as number) * a * p;
  });
  const bought = balancedSample(pi, aux, q, rng);
  const shift = input.calibrate ? calibrate(input, out.scale, units, amounts, bought) : 0;
  units.forEach((i, k) => {
    if (bought[k] !== 1) return;
    out.amounts[i * windows + w] = amounts[k] as number;
    out.buyerWindows++;
  });
  return shift;
}

/**
 * Moves each buyer's amount by x'γ so that Σ x (a · buys − mu) = 0 over the window (γ solves the buyers' normal
 * equations): the landing of the balanced draw leaves a few buyers' worth, which a window of 100–200 buyers
 * would feel in its coefficients. Amounts stay whole cents and at least 1% of the drawn amount.
 */
function calibrate(
  input: BuyerInput,
  scale: number,
  units: number[],
  amounts: number[],
  bought: Uint8Array,
): number {
  const q = SPEND_TERMS;
  const { mus, x } = input;
  const r = new Float64Array(q);
  const xtx = new Float64Array(q * q);
  let buyers = 0;
  units.forEach((i, k) => {
    const e = (bought[k] === 1 ? (amounts[k] as number) : 0) - scale * (mus[i] as number);
    for (let j = 0; j < q; j++) r[j] = (r[j] as number) + (x[i * q + j] as number) * e;
    if (bought[k] !== 1) return;
    buyers++;
    for (let j = 0; j < q; j++)
      for (let l = 0; l < q; l++)
        xtx[j * q + l] = (xtx[j * q + l] as number) + (x[i * q + j] as number) * (x[i * q + l] as number);
  });
  // Too few buyers to spread the fix over (a tiny sample): leave the balanced draw as it is.
  if (buyers < 4 * q) return 0;
  try {
    invertSpdInPlace(xtx, q);
  } catch {
    // The buyers do not span x (say, all of them in the loyalty club): nothing to spread the fix over.
    return 0;
  }
  let shifts = 0;
  units.forEach((i, k) => {
    if (bought[k] !== 1) return;
    let change = 0;
    for (let j = 0; j < q; j++)
      for (let l = 0; l < q; l++)
        change += (x[i * q + j] as number) * (xtx[j * q + l] as number) * (r[l] as number);
    const a = amounts[k] as number;
    const next = Math.round(Math.max(0.01 * a, a - change) * 100) / 100;
    shifts += Math.abs(next - a) / a;
    amounts[k] = next;
  });
  return shifts;
}
