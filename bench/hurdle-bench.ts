/**
 * What a realistic purchase rate costs the sample's planted spend model, and what balanced sampling buys back.
 * The bundled sample plants E[spend in 30 days | x] = x'β and realises it as mu + N(0, 20²) for every profile
 * and window, so everyone buys every month. A two-part (hurdle) realisation keeps E[S | x] = x'β exactly (buy with
 * probability q, then spend a log-normal amount with mean mu / q, log-sd 0.6), so least squares stays unbiased,
 * but most rows become zeros and a few large amounts. This prints the worst of the four coefficients' relative
 * errors of ordinary least squares (the median and range over 5 draws) for buyer shares q, on one 30-day window
 * of the sample's own 5,000 profiles (what `predict` fits on the default sample), when the buyers are drawn:
 * - independently (coin flips; and pooled over six windows of 50,000 profiles, for scale),
 * - by balanced sampling on x · a (`balancedSample`, the cube method) with the same probabilities and amounts,
 * - by the generator's `buyerShare` (balanced, then the buyers' amounts calibrated), with the mean change the
 *   calibration made to an amount.
 * Then the sample's other bars (activity, purchasers, segments ARI, recommendations) at each buyer share.
 * Run: npm run bench -- hurdle
 */
import MLR from 'ml-regression-multivariate-linear';
import { Rng } from '../src/domain/random.ts';
import { balancedSample } from '../src/engine/balanced-sample.ts';
import { evaluateRecommendations } from '../src/engine/evaluate.ts';
import { fitPrediction } from '../src/engine/predict.ts';
import { segmentAudience } from '../src/engine/segments.ts';
import { computeStats } from '../src/engine/stats.ts';
import { generateSample } from '../src/sample/generate.ts';
import { expectedSpend, SAMPLE_TRUTH, spendFeatures } from '../src/sample/truth.ts';
import { adjustedRandIndex } from '../test/support/clustering.ts';

const END = new Date('2026-06-01T00:00:00Z');
const SEGMENTS_END = new Date('2025-06-02T00:00:00Z');
const DAY = 86_400_000;
const SHARES = [1, 0.5, 0.2, 0.05, 0.03, 0.02];
const AMOUNT_LOG_SD = 0.6;
const beta = SAMPLE_TRUTH.spendModel.coefficients;
const names = Object.keys(beta);

type Draw = 'independent' | 'balanced';

function worstOf(rows: number[][], ys: number[][], scale = 1): number {
  const fit = new MLR(rows, ys);
  return Math.max(
    ...names.map((k, j) => Math.abs((fit.weights[j]?.[0] as number) / (scale * (beta[k] as number)) - 1)),
  );
}

/** One window's spend per profile: everyone (q = 1) or a two-part draw, by coin flips or balanced. */
function spends(mu: number[], x: number[][], q: number, draw: Draw, rng: Rng): number[] {
  if (q === 1) return mu.map((m) => Math.max(0, m + rng.normal(0, SAMPLE_TRUTH.spendModel.noiseSd)));
  const sd = AMOUNT_LOG_SD;
  const amounts = mu.map((m) => (m / q) * Math.exp(rng.normal((-sd * sd) / 2, sd)));
  if (draw === 'independent') return amounts.map((a) => (rng.next() < q ? a : 0));
  const pi = Float64Array.from(mu, () => q);
  const aux = new Float64Array(mu.length * 5);
  x.forEach((row, i) => {
    const features = [1, ...row];
    for (let j = 0; j < 5; j++) aux[i * 5 + j] = (features[j] as number) * (amounts[i] as number) * q;
  });
  const bought = balancedSample(pi, aux, 5, rng);
  return amounts.map((a, i) => (bought[i] === 1 ? a : 0));
}

function worstErrors(profiles: number, windows: number, draw: Draw): string[] {
  const sample = generateSample({ profiles, seed: 5, end: END, weeks: 1 });
  const x = sample.profiles.map((p) => spendFeatures(p).slice(1));
  const mu = sample.profiles.map((p) => Math.max(0, expectedSpend(p)));
  return SHARES.map((q) => {
    const worst: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed);
      const rows: number[][] = [];
      const ys: number[][] = [];
      for (let w = 0; w < windows; w++) {
        const y = spends(mu, x, q, draw, rng);
        y.forEach((v, i) => {
          rows.push(x[i] as number[]);
          ys.push([v]);
        });
      }
      worst.push(worstOf(rows, ys));
    }
    return summary(worst);
  });
}

/** The generator's `buyerShare` on the default 26 weeks: the fit `predict` makes, against c · β. */
function generatorErrors(): string[] {
  const planted = Object.keys(beta);
  return SHARES.map((q) => {
    if (q === 1) return summary([]);
    const worst: number[] = [];
    let shift = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const sample = generateSample({ profiles: 5000, seed, end: END, buyerShare: q });
      const model = fitPrediction(sample, {
        features: planted,
        cutoff: END.getTime() - 30 * DAY,
        validate: 'none',
      });
      const c = sample.diagnostics.spendScale;
      const errors = model.coefficients.map((co) =>
        Math.abs(co.value / (c * (beta[co.feature] as number)) - 1),
      );
      worst.push(Math.max(...errors));
      shift += sample.diagnostics.meanAmountShift / 5;
    }
    return `${summary(worst)}, amounts moved ${(100 * shift).toFixed(1)}%`;
  });
}

function summary(worst: number[]): string {
  if (worst.length === 0) return '—';
  worst.sort((a, b) => a - b);
  const pct = (v: number | undefined) => `${(100 * (v ?? 0)).toFixed(v !== undefined && v < 0.01 ? 2 : 0)}%`;
  return `${pct(worst[Math.floor(worst.length / 2)])} (${pct(worst[0])}–${pct(worst[worst.length - 1])})`;
}

const columns = [
  worstErrors(5000, 1, 'independent'),
  worstErrors(50_000, 6, 'independent'),
  worstErrors(5000, 1, 'balanced'),
  generatorErrors(),
];
console.log(
  'worst coefficient error, median (range) of 5 draws\n' +
    'buyers per window | 5k × 1 window, coin flips | 50k × 6 windows, coin flips | 5k × 1, balanced | 5k × 1, generator (balanced + calibrated)',
);
SHARES.forEach((q, i) => {
  const label = q === 1 ? 'everyone buys (default)' : `${q * 100}% buy`;
  console.log([label, ...columns.map((c) => c[i])].join(' | '));
});

/**
 * The other bars at each buyer share: the bundled sample's figures against `buyerShare` (5,000 profiles, seed 42).
 * Stats and the recommendations' time split on the sample ending 2026-06-01 (as `test/engine/evaluate.test.ts`),
 * segments at k=5 (seed 7) on the one ending 2025-06-02 (as `test/engine/segments.test.ts`).
 */
function otherBars(): void {
  console.log(
    '\nbuyers per window | active 30 days | purchasers 30 days (of profiles / of active) | engaged ÷ reached | segments ARI vs personas | reco P@10 ÷ popularity, time split (test users)',
  );
  for (const q of [1, 0.5, 0.2, 0.05, 0.03]) {
    const share = q === 1 ? {} : { buyerShare: q };
    const sample = generateSample({ profiles: 5000, seed: 42, end: END, ...share });
    const st = computeStats(sample.profiles, sample.interactions, { asOf: END.getTime() });
    const n = sample.profiles.length;
    const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
    const older = generateSample({ profiles: 5000, seed: 42, end: SEGMENTS_END, ...share });
    const seg = segmentAudience(older, { k: 5, asOf: SEGMENTS_END.getTime(), seed: 7 });
    const persona = new Map(older.profiles.map((p, i) => [p.id, older.personas[i] as string]));
    const keys = seg.userIds.map((u) => persona.get(u) as string);
    const codes = new Map([...new Set(keys)].map((k, i) => [k, i]));
    const ari = adjustedRandIndex(
      seg.labels,
      keys.map((k) => codes.get(k) as number),
    );
    const reco = evaluateRecommendations(sample, { method: 'time' });
    const label = q === 1 ? 'everyone buys (default)' : `${q * 100}% buy`;
    console.log(
      [
        label,
        pct(st.active30d / n),
        `${pct(st.purchasers30d / n)} / ${pct(st.purchasers30d / st.active30d)}`,
        pct(st.engaged30d / st.reach30d),
        ari.toFixed(3),
        `${(reco.ours.precisionAt10 / reco.popularity.precisionAt10).toFixed(2)}× (${reco.users})`,
      ].join(' | '),
    );
  }
}

otherBars();
