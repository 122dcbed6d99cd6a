import { performance } from 'node:perf_hooks';
import {
  finishRecommendModel, pairsFromSums, planRecommendModel, recommendCellRules, recommendSampleFromRows, recommendSamplePlan,
} from '../src/engine/recommend.ts';
import { userRecommendationsFor } from '../src/queries/recommendation.ts';
import { openPgStore } from '../src/store/postgres/pg-store.ts';

const store = await openPgStore({ url: process.env.URL ?? 'postgres://postgres@127.0.0.1:5432/bench_pgreco', teamId: process.env.TEAM ?? 'TPGSCALE', onNotice: () => undefined });
const t = () => performance.now();
const source = store.audience.recommendStats!;
let a = t();
const scan = await source.open();
const log = (what: string) => { const b = t(); console.log(what, (b - a).toFixed(0), 'ms'); a = b; };
log('open');
const options = { asOf: (scan.latest ?? 0) + 1, builtAt: Date.now() };
await scan.cells(recommendCellRules(options)); log('cells+people');
const products = await scan.products(); log(`products ${products.length}`);
const census = await scan.census(); log(`census users ${census.users} eligible ${census.eligibleUsers}`);
const rows = await scan.sample(recommendSamplePlan(census, options)); log(`sample ${rows.people.length} people ${rows.interactions.length} rows`);
const sample = recommendSampleFromRows(rows, products, census, options); log('sample cells (engine)');
const draft = planRecommendModel(products, census, sample, options); log(`plan (validation) items ${draft.collaborative.itemSet.length} hl ${draft.collaborative.halfLifeDays}`);
const sums = await scan.pairs(draft.collaborative.itemSet, draft.collaborative.halfLifeDays); log('pairs (SQL)');
const model = finishRecommendModel(draft, pairsFromSums(sums)); log('finish (EASE)');
await scan.release();
console.log('rss MB', Math.round(process.resourceUsage().maxRSS / 1024), model.collaborative);
if (process.env.TOP) {
  await userRecommendationsFor(store, 'u00000042', 10, Date.now()); log('first top10 (build or read)');
  const ts: number[] = [];
  for (let k = 1; k <= 50; k++) { const b = t(); await userRecommendationsFor(store, `u${String(k * 7919 % 1000000).padStart(8, '0')}`, 10, Date.now()); ts.push(t() - b); }
  ts.sort((x, y) => x - y); console.log('top10 p50', ts[25]?.toFixed(1), 'max', ts[49]?.toFixed(1));
}
await store.close();
