/**
 * What a realistic purchase rate costs the sample's planted spend model: the bundled sample plants
 * E[spend in 30 days | x] = x'β and realises it as mu + N(0, 20²) for every profile and window, so everyone buys
 * every month. A two-part (hurdle) realisation keeps E[S | x] = x'β exactly (buy with probability q, then spend a
 * log-normal amount with mean mu / q, log-sd 0.6), so least squares stays unbiased, but most rows
 * become zeros and a few large amounts. This prints the worst of the four coefficients' relative errors of
 * ordinary least squares (the median and range over 5 draws) for buyer shares q, on the sample's own profiles, for
 * one 30-day window of 5,000 profiles (what `predict` fits on the default sample) and six windows of 50,000.
 * Run: npm run bench -- hurdle
 */
import MLR from 'ml-regression-multivariate-linear';
import { Rng } from '../src/domain/random.ts';
import { generateSample } from '../src/sample/generate.ts';
import { expectedSpend, SAMPLE_TRUTH } from '../src/sample/truth.ts';

const END = new Date('2026-06-01T00:00:00Z');
const SHARES = [1, 0.9, 0.5, 0.2, 0.05, 0.02];
const AMOUNT_LOG_SD = 0.6;

function worstErrors(profiles: number, windows: number): string[] {
  const sample = generateSample({ profiles, seed: 5, end: END, weeks: 1 });
  const beta = SAMPLE_TRUTH.spendModel.coefficients;
  const names = Object.keys(beta);
  const x = sample.profiles.map((p) => [
    Math.log10(1 + (p.followers ?? 0)),
    p.attrs.age as number,
    p.attrs.app_sessions_per_week as number,
    p.attrs.loyalty_member ? 1 : 0,
  ]);
  const mu = sample.profiles.map((p) => Math.max(0, expectedSpend(p)));
  return SHARES.map((q) => {
    const worst: number[] = [];
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed);
      const rows: number[][] = [];
      const ys: number[][] = [];
      for (let w = 0; w < windows; w++) {
        mu.forEach((m, i) => {
          let y = 0;
          const sd = AMOUNT_LOG_SD;
          if (q === 1) y = Math.max(0, m + rng.normal(0, SAMPLE_TRUTH.spendModel.noiseSd));
          else if (rng.next() < q) y = (m / q) * Math.exp(rng.normal((-sd * sd) / 2, sd));
          rows.push(x[i] as number[]);
          ys.push([y]);
        });
      }
      const fit = new MLR(rows, ys);
      worst.push(
        Math.max(...names.map((k, j) => Math.abs((fit.weights[j]?.[0] as number) / (beta[k] as number) - 1))),
      );
    }
    worst.sort((a, b) => a - b);
    const pct = (v: number | undefined) => `${Math.round(100 * (v ?? 0))}%`;
    const label = q === 1 ? 'everyone buys (today)' : `${q * 100}% buy`;
    return `${label.padEnd(22)} ${pct(worst[2]).padStart(6)}   (${pct(worst[0])}–${pct(worst[4])})`;
  });
}

const small = worstErrors(5000, 1);
const large = worstErrors(50_000, 6);
console.log('buyers per window       5k × 1 window: worst error, median (range)   50k × 6 windows');
small.forEach((line, i) => {
  console.log(`${line}   ${large[i]?.slice(22)}`);
});
