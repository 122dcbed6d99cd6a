/**
 * Generated data sets with the shapes of real exports, for tests and the benchmark of the recommender: the
 * bundled sample is one shop; a marketer's own data can look very different. Each shape follows a standard
 * generative model, not a trick our recommender knows about:
 *
 * - Item popularity is Zipf-like (item of rank r has weight r^-zipf), so a few items take most events.
 * - Users have latent tastes: user and item factor vectors (Gaussian), and a user picks item i with probability
 *   ∝ popularity(i) · exp(taste · (u · v_i)), so taste tilts choices away from the bestsellers.
 * - Activity is heavy-tailed: events per user are log-normal (many users with a handful, a few with hundreds).
 * - Time spans years: each user is active over their own window inside `years`, events spread uniformly in it.
 * - `ratings`: explicit half-star ratings from 0.5 to 5 (the user's bias + affinity + noise, rounded to 0.5),
 *   no purchases at all. `purchases`: purchases only, some bought again. `baskets`: a small catalogue in
 *   categories, each basket a few items from one category chosen by the user's category taste; purchases only.
 *
 * Pure and seeded: the same options give the same data.
 */
import { createRng, type Rng } from '../domain/random.ts';
import type { Interaction, Product, Profile } from '../domain/types.ts';

/** Which kind of store to generate. */
export type ShapeKind = 'ratings' | 'purchases' | 'baskets';

/** Options of `generateShape`; everything but `kind` has a default. */
export interface ShapeOptions {
  kind: ShapeKind;
  users?: number;
  items?: number;
  /** Median events per user (log-normal, σ = 1). */
  medianEvents?: number;
  /** Zipf exponent of item popularity. */
  zipf?: number;
  /** Latent factors, and how strongly taste tilts choices. */
  factors?: number;
  taste?: number;
  /** Years the data spans, ending at `end` (epoch ms). */
  years?: number;
  end?: number;
  seed?: number;
}

/** A generated store: what the recommender reads. */
export interface ShapeData {
  profiles: Profile[];
  products: Product[];
  interactions: Interaction[];
}

/**
 * The older smooth-taste ratings set (half stars, Zipf 0.7, three taste factors): less collaborative structure than
 * the MovieLens-shaped catalogue set, so the evaluate test and the recommendation bench both judge the model on it.
 */
export const OLDER_RATINGS_SHAPE: ShapeOptions = {
  kind: 'ratings',
  seed: 3,
  users: 1200,
  items: 500,
  medianEvents: 30,
  taste: 3,
  zipf: 0.7,
};

const DAY = 86_400_000;

/** Generates one store of the given shape; see the module comment. */
export function generateShape(options: ShapeOptions): ShapeData {
  const o = {
    users: 3000,
    items: options.kind === 'baskets' ? 150 : 1200,
    medianEvents: options.kind === 'baskets' ? 12 : 15,
    zipf: options.kind === 'baskets' ? 0.9 : 1,
    factors: 8,
    taste: 1.5,
    years: 4,
    end: Date.UTC(2026, 5, 1),
    seed: 1,
    ...options,
  };
  const rng = createRng(o.seed);
  const categories = options.kind === 'baskets' ? 15 : 20;
  const products = makeProducts(rng, o.items, categories);
  const itemFactors = Array.from({ length: o.items }, () => gaussians(rng, o.factors, 1));
  const popularity = zipfWeights(rng, o.items, o.zipf);
  const profiles: Profile[] = [];
  const interactions: Interaction[] = [];
  for (let u = 0; u < o.users; u++) {
    const id = `u${String(u + 1).padStart(5, '0')}`;
    const from = o.end - o.years * 365 * DAY;
    const start = from + rng.next() * (o.end - from) * 0.9;
    const stop = Math.min(o.end - 1, start + rng.uniform(30, 3 * 365) * DAY);
    profiles.push(profile(id, start));
    const n = Math.max(2, Math.round(o.medianEvents * Math.exp(rng.normal(0, 1))));
    const taste = gaussians(rng, o.factors, 1);
    const weights = Float64Array.from(
      popularity,
      (p, i) => p * Math.exp(o.taste * dot(taste, itemFactors[i] as number[])),
    );
    const events = { id, start, stop, n, weights };
    if (options.kind === 'baskets') baskets(rng, events, products, interactions);
    else choices(rng, events, options.kind, o.taste, taste, itemFactors, products, interactions);
  }
  interactions.sort(
    (a, b) => a.timestamp - b.timestamp || (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0),
  );
  return { profiles, products, interactions };
}

interface UserEvents {
  id: string;
  start: number;
  stop: number;
  n: number;
  /** Choice weight of every item for this user. */
  weights: Float64Array;
}

function makeProducts(rng: Rng, items: number, categories: number): Product[] {
  return Array.from({ length: items }, (_, i) => ({
    id: `i${String(i + 1).padStart(5, '0')}`,
    name: `Item ${i + 1}`,
    category: `c${String((i * 7 + rng.int(0, 2)) % categories).padStart(2, '0')}`,
    price: Math.round(Math.exp(rng.normal(3, 0.7)) * 100) / 100,
    in_stock: true,
  }));
}

/** Zipf weights r^-s over a random ranking of the items. */
function zipfWeights(rng: Rng, n: number, s: number): Float64Array {
  const ranks = rng.shuffle(Array.from({ length: n }, (_, r) => r));
  return Float64Array.from(ranks, (r) => (r + 1) ** -s);
}

function gaussians(rng: Rng, n: number, sd: number): number[] {
  return Array.from({ length: n }, () => rng.normal(0, sd / Math.sqrt(n)));
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] as number) * (b[k] as number);
  return s;
}

/** A profile with only an id and a sign-up time (generated stores carry no other profile data). */
export function profile(id: string, createdAt: number): Profile {
  return {
    id,
    platform: null,
    country: null,
    created_at: Math.floor(createdAt),
    last_active_at: null,
    followers: null,
    interests: [],
    attrs: {},
  };
}

/** Distinct items drawn by weight (without replacement), at most all items with weight. */
export function drawDistinct(rng: Rng, weights: Float64Array, n: number): number[] {
  const cum = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i] as number;
    cum[i] = total;
  }
  const seen = new Set<number>();
  const out: number[] = [];
  // Rejection of repeats is cheap while n is small next to the catalogue; the attempt cap ends it otherwise.
  for (let tries = 0; out.length < n && tries < 20 * n && total > 0; tries++) {
    const i = rng.fromCumulative(cum);
    if (seen.has(i)) continue;
    seen.add(i);
    out.push(i);
  }
  return out;
}

/** Ratings (half stars, no purchases) or purchases (some repeated) of items chosen by taste. */
function choices(
  rng: Rng,
  user: UserEvents,
  kind: 'ratings' | 'purchases',
  tasteScale: number,
  taste: readonly number[],
  itemFactors: readonly number[][],
  products: readonly Product[],
  out: Interaction[],
): void {
  const bias = rng.normal(3.4, 0.5);
  for (const i of drawDistinct(rng, user.weights, user.n)) {
    const ts = Math.floor(user.start + rng.next() * (user.stop - user.start));
    const item = (products[i] as Product).id;
    if (kind === 'ratings') {
      const affinity = tasteScale * dot(taste, itemFactors[i] as number[]);
      const stars = Math.min(5, Math.max(0.5, Math.round((bias + affinity + rng.normal(0, 0.8)) * 2) / 2));
      out.push({ user_id: user.id, item_id: item, type: 'rating', value: stars, timestamp: ts });
      continue;
    }
    const price = (products[i] as Product).price;
    out.push({ user_id: user.id, item_id: item, type: 'purchase', value: price, timestamp: ts });
    if (rng.bernoulli(0.15)) {
      const again = Math.min(user.stop, ts + rng.uniform(7, 120) * DAY);
      out.push({
        user_id: user.id,
        item_id: item,
        type: 'purchase',
        value: price,
        timestamp: Math.floor(again),
      });
    }
  }
}

/** Baskets: each a few items of one category, the category chosen by the user's taste. */
function baskets(rng: Rng, user: UserEvents, products: readonly Product[], out: Interaction[]): void {
  const byCategory = new Map<string, number[]>();
  products.forEach((p, i) => {
    const list = byCategory.get(p.category) ?? [];
    list.push(i);
    byCategory.set(p.category, list);
  });
  const cats = [...byCategory.keys()].sort();
  const catWeights = cats.map((c) =>
    (byCategory.get(c) as number[]).reduce((s, i) => s + (user.weights[i] as number), 0),
  );
  const nBaskets = Math.max(1, Math.round(user.n / 4));
  for (let b = 0; b < nBaskets; b++) {
    const items = byCategory.get(cats[rng.categorical(catWeights)] as string) as number[];
    const w = Float64Array.from(items, (i) => user.weights[i] as number);
    const ts = Math.floor(user.start + rng.next() * (user.stop - user.start));
    for (const k of drawDistinct(rng, w, rng.int(2, 6))) {
      const p = products[items[k] as number] as Product;
      out.push({ user_id: user.id, item_id: p.id, type: 'purchase', value: p.price, timestamp: ts });
    }
  }
}
