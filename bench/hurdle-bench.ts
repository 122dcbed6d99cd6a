/**
 * What the buyers' calibration does to the sample's planted spend coefficients. The sample plants
 * E[spend in 30 days | x] = x'β and realises it as a two-part (hurdle) draw: about 5% of the profiles buy in a
 * month, each window's buyers a balanced draw (`balancedSample`, the cube method) on x · a, then the buyers' amounts
 * calibrated so that least squares on any one window returns β (`src/sample/buyers.ts`). This prints, per seed,
 * each planted coefficient's relative error in the fit `predict` makes on the default cutoff (the last 30 days'
 * spend, planted features), with the calibration (what the tests see) and without it (the balanced draw alone: what
 * an honest month of this audience gives), and the mean change the calibration made to a buyer's amount.
 * Run: npm run bench -- hurdle
 */
import { fitPrediction } from '../src/engine/predict.ts';
import { generateSample } from '../src/sample/generate.ts';
import { SAMPLE_TRUTH } from '../src/sample/truth.ts';

const END = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const SEEDS = [42, 1, 7, 2024, 5];
const beta = SAMPLE_TRUTH.spendModel.coefficients;
const names = Object.keys(beta);
const pct = (v: number) => `${(100 * v).toFixed(v < 0.01 ? 2 : 1)}%`;

/** Relative error per planted coefficient of the default-cutoff fit on one generated sample. */
function errors(seed: number, calibrate: boolean): { errors: number[]; shift: number } {
  const sample = generateSample({ profiles: 5000, seed, end: END, calibrate });
  const model = fitPrediction(sample, {
    features: names,
    cutoff: END.getTime() - 30 * DAY,
    validate: 'none',
  });
  const out = names.map((name) => {
    const got = model.coefficients.find((c) => c.feature === name)?.value ?? Number.NaN;
    return Math.abs(got / (beta[name] as number) - 1);
  });
  return { errors: out, shift: sample.diagnostics.meanAmountShift };
}

console.log(`relative error of each planted coefficient (${names.join(', ')}), 5,000 profiles, last 30 days`);
console.log('seed | calibrated | balanced draw only (no calibration) | mean change of an amount');
const worst: number[][] = names.map(() => []);
for (const seed of SEEDS) {
  const on = errors(seed, true);
  const off = errors(seed, false);
  off.errors.forEach((e, j) => {
    worst[j]?.push(e);
  });
  console.log(
    [seed, on.errors.map(pct).join(' / '), off.errors.map(pct).join(' / '), pct(on.shift)].join(' | '),
  );
}
console.log(
  `no calibration, median over the seeds: ${names
    .map((n, j) => {
      const sorted = [...(worst[j] as number[])].sort((a, b) => a - b);
      return `${n} ${pct(sorted[Math.floor(sorted.length / 2)] as number)}`;
    })
    .join(', ')}`,
);
