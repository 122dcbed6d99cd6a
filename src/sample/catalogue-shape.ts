/**
 * A ratings (or purchases) store shaped like public movie-rating data, for the recommender's tests and benchmark:
 * shapes.ts draws every choice from one smooth taste model, which leaves less collaborative structure than real
 * rating data has (the last benchmark's Bayes ceiling there was 1.155x popularity). Real catalogues have genres
 * and sub-genres people stick to, series whose parts are watched together, releases that are watched in the
 * months after they come out, and popularity that goes with quality. The figures it aims at are published ones,
 * not ones that make a model look good (LensKit's MovieLens data descriptions, codex.lenskit.org/movielens):
 *
 * - ML-1M: 6,039 users, 3,705 rated items, density 4.467%, item-popularity Gini 0.634; ratings per user fit a
 *   shifted log-normal (shift 17.7, median above it 67, σ 1.39): every user has at least 20, a few thousands.
 *   ML-10M: density 1.34%, Gini 0.805. A user's ratings come in bursts (many on the first day).
 * - Rating values. ML-1M has whole stars only (1–5: 5.6, 10.8, 26.1, 34.9, 22.6%; mean 3.58). MovieLens' current
 *   data (ml-latest-small, GroupLens 2018: 100,836 ratings) allows half stars from 0.5, but most ratings are
 *   whole: 0.5–5 in half steps are 1.4, 2.8, 1.8, 7.5, 5.5, 19.9, 13.0, 26.6, 8.5, 13.1% (70% whole stars), mean
 *   3.50. Here 65% of people rate in half stars and the rest in whole stars only, around a mean of 3.5: on seeds
 *   1/4/5/6 (1,500 × 1,200) the mean is 3.50–3.54, 69–70% of ratings are whole stars, and the shares by value are
 *   within about 3 points of ml-latest-small's (4.0 is 23–24%, 3.0 22%, 5.0 14–15%; fewer below 1.5).
 *
 * Defaults: 3,000 users and 2,500 items (a catalogue of MovieLens-1M's order at a size a test can fit), ratings per
 * user 15 + log-normal (median 38, σ 1.39), scaled to the smaller catalogue so that density stays near ML-1M's;
 * item popularity log-normal (σ 2) and correlated 0.5 with quality, which gives a Gini near ML-1M's. What
 * `catalogueShapeStats` measures on the defaults (seed 1): see test/sample/catalogue-shape.test.ts.
 *
 * Pure and seeded: the same options give the same data.
 */
import { createRng, type Rng } from '../domain/random.ts';
import type { Interaction, Product, Profile } from '../domain/types.ts';
import { drawDistinct, profile } from './shapes.ts';

/** Options of `generateCatalogueShape`; everything but `kind` has a default. */
export interface CatalogueShapeOptions {
  /** `ratings`: ratings only (whole or half stars, by person); `purchases`: the same choices, bought (some twice). */
  kind: 'ratings' | 'purchases';
  users?: number;
  items?: number;
  /** Ratings per user: `minEvents` + log-normal with this median and σ. */
  minEvents?: number;
  medianEvents?: number;
  sigmaEvents?: number;
  /** σ of the log-normal item popularity. */
  popularitySigma?: number;
  /** σ of a user's log-normal genre weights (larger: fewer favourite genres), and the sub-genre tilt. */
  genreSigma?: number;
  subgenreTilt?: number;
  years?: number;
  end?: number;
  seed?: number;
}

/** A generated store. */
export interface CatalogueShapeData {
  profiles: Profile[];
  products: Product[];
  interactions: Interaction[];
}

const DAY = 86_400_000;
const GENRES = 18;
const SUBGENRES = 4;
/** Share of items in a series (2–4 parts, one sub-genre, a year or two apart), and how often a part leads to another. */
const SERIES_SHARE = 0.1;
const SEQUEL_RATE = 0.5;
/** Share of items released during the data's span (the rest are older titles), and how long a release is news. */
const NEW_RELEASES = 0.4;
const RELEASE_BUZZ_DAYS = 120;
/** Ratings: the mean of the latent score, and the share of people who rate in half stars (see the module comment). */
const RATING_BASE = 3.1;
const HALF_STAR_USERS = 0.65;

interface Item {
  genre: number;
  second: number;
  sub: number;
  quality: number;
  popularity: number;
  release: number;
  series: number;
}

/** Generates one store; see the module comment. */
export function generateCatalogueShape(options: CatalogueShapeOptions): CatalogueShapeData {
  const o = {
    users: 3000,
    items: 2500,
    minEvents: 15,
    medianEvents: 38,
    sigmaEvents: 1.39,
    popularitySigma: 2.2,
    genreSigma: 3,
    subgenreTilt: 2,
    years: 4,
    end: Date.UTC(2026, 5, 1),
    seed: 1,
    ...options,
  };
  const rng = createRng(o.seed);
  // Who rates in half stars comes from a stream of its own, so the choices (what is rated) stay those of `seed`.
  const style = createRng(o.seed + 0x51a2);
  const from = o.end - o.years * 365 * DAY;
  const items = makeItems(rng, o.items, o.popularitySigma, from, o.end);
  const seriesOf = groupSeries(items);
  const products = items.map((it, i) => product(rng, i, it));
  const profiles: Profile[] = [];
  const interactions: Interaction[] = [];
  const weights = new Float64Array(o.items);
  for (let u = 0; u < o.users; u++) {
    const id = `u${String(u + 1).padStart(5, '0')}`;
    const user = makeUser(rng, o, from, o.kind === 'ratings' && style.bernoulli(HALF_STAR_USERS));
    profiles.push(profile(id, user.start));
    const n = Math.min(
      Math.floor(o.items / 2),
      o.minEvents + Math.round(Math.exp(Math.log(o.medianEvents) + o.sigmaEvents * rng.normal(0, 1))),
    );
    for (let i = 0; i < o.items; i++) weights[i] = choiceWeight(user, items[i] as Item);
    const chosen = drawDistinct(rng, weights, n);
    addSequels(rng, chosen, items, seriesOf, user.stop);
    for (const i of chosen)
      emit(rng, o.kind, id, user, items[i] as Item, products[i] as Product, interactions);
  }
  interactions.sort(
    (a, b) => a.timestamp - b.timestamp || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0),
  );
  return { profiles, products, interactions };
}

function makeItems(rng: Rng, n: number, sigma: number, from: number, end: number): Item[] {
  // Genres differ in size (dramas and comedies are many, westerns few).
  const genreWeights = Array.from({ length: GENRES }, (_, g) => (g + 1) ** -0.8);
  return Array.from({ length: n }, () => {
    const genre = rng.categorical(genreWeights);
    const quality = rng.normal(0, 1);
    const z = 0.5 * quality + Math.sqrt(0.75) * rng.normal(0, 1);
    const isNew = rng.bernoulli(NEW_RELEASES);
    return {
      genre,
      second: rng.bernoulli(0.5) ? rng.categorical(genreWeights) : -1,
      sub: genre * SUBGENRES + rng.int(0, SUBGENRES - 1),
      quality,
      popularity: Math.exp(sigma * z),
      release: isNew ? from + rng.next() * (end - from) : from - rng.uniform(30, 20 * 365) * DAY,
      series: -1,
    };
  });
}

/** Gives SERIES_SHARE of the items a series: runs of 2–4 items of one sub-genre, released a year or two apart. */
function groupSeries(items: Item[]): number[][] {
  const bySub = new Map<number, number[]>();
  items.forEach((it, i) => {
    const list = bySub.get(it.sub) ?? [];
    list.push(i);
    bySub.set(it.sub, list);
  });
  const series: number[][] = [];
  const target = Math.floor(SERIES_SHARE * items.length);
  let placed = 0;
  for (const list of bySub.values()) {
    for (let k = 0; k + 1 < list.length && placed < target; k += 8) {
      const parts = list.slice(k, k + 2 + (k % 3));
      const first = items[parts[0] as number] as Item;
      parts.forEach((i, p) => {
        const it = items[i] as Item;
        it.series = series.length;
        it.release = first.release + p * 500 * DAY;
      });
      series.push(parts);
      placed += parts.length;
    }
  }
  return series;
}

interface User {
  start: number;
  stop: number;
  /** The time the user's taste for new releases is judged at (the middle of their active span). */
  mid: number;
  genre: Float64Array;
  sub: Float64Array;
  bias: number;
  /** Whether the person rates in half stars (else whole stars only). */
  halfStars: boolean;
}

function makeUser(
  rng: Rng,
  o: { years: number; end: number; genreSigma: number; subgenreTilt: number },
  from: number,
  halfStars: boolean,
): User {
  const start = from + rng.next() * (o.end - from - 30 * DAY);
  // Most people rate in a burst and leave; some stay for years.
  const span = Math.min(o.end - 1 - start, Math.exp(rng.normal(Math.log(60), 1.6)) * DAY);
  const genre = Float64Array.from({ length: GENRES }, () => Math.exp(o.genreSigma * rng.normal(0, 1)));
  const total = genre.reduce((a, b) => a + b, 0);
  for (let g = 0; g < GENRES; g++) genre[g] = (genre[g] as number) / total;
  const sub = Float64Array.from({ length: GENRES * SUBGENRES }, () => o.subgenreTilt * rng.normal(0, 1));
  return {
    start,
    stop: start + span,
    mid: start + span / 2,
    genre,
    sub,
    bias: rng.normal(0, 0.45),
    halfStars,
  };
}

/** How likely the user picks the item: popularity, genre and sub-genre taste, and release buzz. */
function choiceWeight(user: User, it: Item): number {
  if (it.release > user.stop) return 0;
  const genreTaste =
    (user.genre[it.genre] as number) + (it.second >= 0 ? 0.5 * (user.genre[it.second] as number) : 0) + 0.005;
  const age = (user.mid - it.release) / DAY;
  const buzz = age >= 0 ? 1 + 3 * Math.exp(-age / RELEASE_BUZZ_DAYS) : 0.5;
  return it.popularity * genreTaste * Math.exp(user.sub[it.sub] as number) * buzz;
}

/** Someone who saw one part of a series sees each other part already out with probability SEQUEL_RATE. */
function addSequels(
  rng: Rng,
  chosen: number[],
  items: readonly Item[],
  series: number[][],
  stop: number,
): void {
  const have = new Set(chosen);
  for (const i of chosen.slice()) {
    const s = (items[i] as Item).series;
    if (s < 0) continue;
    for (const j of series[s] as number[]) {
      if (have.has(j) || (items[j] as Item).release > stop || !rng.bernoulli(SEQUEL_RATE)) continue;
      have.add(j);
      chosen.push(j);
    }
  }
}

/** The user's rating (or purchase) of one item, at a time in their span after its release; half come in a burst. */
function emit(
  rng: Rng,
  kind: 'ratings' | 'purchases',
  id: string,
  user: User,
  it: Item,
  p: Product,
  out: Interaction[],
): void {
  const earliest = Math.max(user.start, it.release);
  const burst = it.release <= user.start && rng.bernoulli(0.5);
  const ts = Math.floor(
    burst ? user.start + rng.next() * 3 * 3_600_000 : earliest + rng.next() * (user.stop - earliest),
  );
  if (kind === 'purchases') {
    out.push({ user_id: id, item_id: p.id, type: 'purchase', value: p.price, timestamp: ts });
    if (rng.bernoulli(0.1)) {
      const again = Math.min(user.stop, ts + rng.uniform(7, 120) * DAY);
      out.push({
        user_id: id,
        item_id: p.id,
        type: 'purchase',
        value: p.price,
        timestamp: Math.floor(again),
      });
    }
    return;
  }
  const affinity =
    0.6 * (user.sub[it.sub] as number) + 0.4 * Math.log(GENRES * (user.genre[it.genre] as number) + 0.1);
  const raw = RATING_BASE + user.bias + 0.45 * it.quality + 0.3 * affinity + rng.normal(0, 0.75);
  const stars = user.halfStars
    ? Math.min(5, Math.max(0.5, Math.round(raw * 2) / 2))
    : Math.min(5, Math.max(1, Math.round(raw)));
  out.push({ user_id: id, item_id: p.id, type: 'rating', value: stars, timestamp: ts });
}

function product(rng: Rng, i: number, it: Item): Product {
  return {
    id: `m${String(i + 1).padStart(5, '0')}`,
    name: `Title ${i + 1}`,
    category: `g${String(it.genre).padStart(2, '0')}`,
    price: Math.round(Math.exp(rng.normal(2.5, 0.4)) * 100) / 100,
    in_stock: true,
  };
}

/** Shape statistics to compare with the published ones: density, item Gini, ratings per user, mean rating. */
export function catalogueShapeStats(data: CatalogueShapeData) {
  const perItem = new Map<string, number>();
  const perUser = new Map<string, number>();
  let sum = 0;
  let rated = 0;
  for (const it of data.interactions) {
    perItem.set(it.item_id as string, (perItem.get(it.item_id as string) ?? 0) + 1);
    perUser.set(it.user_id, (perUser.get(it.user_id) ?? 0) + 1);
    if (it.type === 'rating' && it.value !== null) {
      sum += it.value;
      rated++;
    }
  }
  const counts = [...perItem.values()].sort((a, b) => a - b);
  const n = counts.length;
  let weighted = 0;
  counts.forEach((c, k) => {
    weighted += (2 * (k + 1) - n - 1) * c;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const users = [...perUser.values()].sort((a, b) => a - b);
  return {
    users: users.length,
    items: n,
    events: data.interactions.length,
    density: data.interactions.length / (users.length * n),
    gini: weighted / (n * total),
    medianPerUser: users[Math.floor(users.length / 2)] ?? 0,
    maxPerUser: users[users.length - 1] ?? 0,
    meanRating: rated > 0 ? sum / rated : Number.NaN,
  };
}
