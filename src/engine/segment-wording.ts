/**
 * The words segments are described in: the lexicon of adjectives and nouns per feature, the marketing
 * archetypes recognised from a segment's z-profile, unique segment names, and trait sentences in original
 * units ("median $225.42 spent/month, 2.3x the audience"). Only wording lives here; the numbers come from
 * segments.ts.
 */
import { formatMoney } from '../domain/format.ts';

interface Words {
  adj: string;
  noun: string;
}

const LEXICON: Record<string, { high: Words; low: Words }> = {
  log_followers: {
    high: { adj: 'Influential', noun: 'influencers' },
    low: { adj: 'Small-reach', noun: 'small accounts' },
  },
  followers: {
    high: { adj: 'Influential', noun: 'influencers' },
    low: { adj: 'Small-reach', noun: 'small accounts' },
  },
  views_per_week: { high: { adj: 'Avid', noun: 'watchers' }, low: { adj: 'Rarely-seen', noun: 'browsers' } },
  engagement: { high: { adj: 'Highly engaged', noun: 'fans' }, low: { adj: 'Quiet', noun: 'lurkers' } },
  likes_per_week: { high: { adj: 'Like-happy', noun: 'likers' }, low: { adj: 'Reserved', noun: 'lurkers' } },
  shares_per_week: {
    high: { adj: 'Sharing', noun: 'sharers' },
    low: { adj: 'Non-sharing', noun: 'lurkers' },
  },
  comments_per_week: {
    high: { adj: 'Talkative', noun: 'commenters' },
    low: { adj: 'Silent', noun: 'lurkers' },
  },
  clicks_per_week: {
    high: { adj: 'Click-happy', noun: 'clickers' },
    low: { adj: 'Low-click', noun: 'viewers' },
  },
  engagement_rate: {
    high: { adj: 'Interactive', noun: 'responders' },
    low: { adj: 'Passive', noun: 'viewers' },
  },
  recency_days: {
    high: { adj: 'Lapsed', noun: 'lapsed buyers' },
    low: { adj: 'Recent', noun: 'recent buyers' },
  },
  frequency: {
    high: { adj: 'Frequent', noun: 'repeat buyers' },
    low: { adj: 'Infrequent', noun: 'occasional buyers' },
  },
  monetary: {
    high: { adj: 'High-spend', noun: 'big spenders' },
    low: { adj: 'Low-spend', noun: 'light spenders' },
  },
  spend_per_month: {
    high: { adj: 'High-spend', noun: 'big spenders' },
    low: { adj: 'Low-spend', noun: 'light spenders' },
  },
  purchases_per_month: {
    high: { adj: 'Frequent', noun: 'repeat buyers' },
    low: { adj: 'Infrequent', noun: 'occasional buyers' },
  },
  avg_order_value: {
    high: { adj: 'Big-basket', noun: 'premium shoppers' },
    low: { adj: 'Small-basket', noun: 'bargain hunters' },
  },
  active_days_per_week: {
    high: { adj: 'Daily-active', noun: 'regulars' },
    low: { adj: 'Occasional', noun: 'drop-ins' },
  },
  tenure_days: { high: { adj: 'Long-time', noun: 'veterans' }, low: { adj: 'New', noun: 'newcomers' } },
  age: { high: { adj: 'Older', noun: 'mature customers' }, low: { adj: 'Young', noun: 'young users' } },
  loyalty_member: {
    high: { adj: 'Loyalty-club', noun: 'loyalists' },
    low: { adj: 'Non-member', noun: 'non-members' },
  },
  app_sessions_per_week: {
    high: { adj: 'App-heavy', noun: 'app regulars' },
    low: { adj: 'App-light', noun: 'occasional app users' },
  },
};

/**
 * Marketing archetypes recognised from a segment's z-profile (weights over feature names). One that names what
 * people do (`active`: browsing) is not given to a segment whose typical member did nothing: see `ACTIVITY`.
 */
const ARCHETYPES: Array<{
  name: (z: Record<string, number>) => string;
  signature: Record<string, number>;
  active?: true;
}> = [
  {
    name: () => 'High-spend loyalists',
    signature: {
      monetary: 1,
      spend_per_month: 1,
      avg_order_value: 0.8,
      loyalty_member: 0.8,
      frequency: 0.3,
      purchases_per_month: 0.3,
      recency_days: -0.3,
    },
  },
  {
    name: (z) => ((z.age ?? 0) < -0.3 ? 'Young trend-setters' : 'Trend-setters'),
    signature: {
      log_followers: 1,
      followers: 0.8,
      // Trends are bought as they come: where engagement is too rare to show, frequent buying still does.
      purchases_per_month: 0.3,
      engagement: 1,
      shares_per_week: 0.8,
      likes_per_week: 0.8,
      comments_per_week: 0.6,
      engagement_rate: 0.6,
      age: -0.8,
    },
  },
  {
    name: () => 'Bargain hunters',
    signature: { frequency: 1, purchases_per_month: 1, avg_order_value: -1, clicks_per_week: 0.7 },
  },
  {
    name: () => 'Quiet followers',
    signature: {
      views_per_week: 0.8,
      engagement_rate: -1,
      engagement: -0.4,
      log_followers: -0.4,
      followers: -0.3,
    },
  },
  {
    name: () => 'Casual browsers',
    active: true,
    signature: {
      views_per_week: -1,
      active_days_per_week: -1,
      engagement: -0.6,
      frequency: -0.4,
      purchases_per_month: -0.4,
      monetary: -0.4,
      spend_per_month: -0.4,
      app_sessions_per_week: -0.6,
    },
  },
  {
    name: () => 'Dormant followers',
    signature: { recency_days: 1, active_days_per_week: -0.8, engagement: -0.6, views_per_week: -0.6 },
  },
  {
    name: () => 'Engaged fans',
    signature: { engagement: 1, active_days_per_week: 0.8, likes_per_week: 0.6 },
  },
  {
    name: () => 'Big-ticket buyers',
    signature: { avg_order_value: 1, frequency: -0.5, purchases_per_month: -0.5 },
  },
  {
    name: () => 'Frequent shoppers',
    signature: { frequency: 1, purchases_per_month: 1, monetary: 0.6, spend_per_month: 0.6 },
  },
  { name: () => 'New joiners', signature: { tenure_days: -1 } },
];
/** Minimum cosine between a z-profile and an archetype signature to use the archetype's name. */
const ARCHETYPE_MIN_COSINE = 0.6;

/** Features that count what people do: a segment whose medians of all of them are 0 is not "browsing". */
const ACTIVITY = ['views_per_week', 'active_days_per_week', 'engagement'];

/** Whether the segment's typical member did nothing: every activity feature present has a median of 0. */
function typicallyIdle(features: string[], medians: readonly number[] | undefined): boolean {
  if (medians === undefined) return false;
  const at = ACTIVITY.map((f) => features.indexOf(f)).filter((t) => t >= 0);
  return at.length > 0 && at.every((t) => medians[t] === 0);
}

/**
 * Unique names: archetypes first (greedy by best match), then adjective + noun of the top traits. `medians`
 * (per segment, per feature, when known) keeps activity archetypes off segments whose typical member was idle.
 */
export function nameSegments(features: string[], zs: number[][], medians?: number[][]): string[] {
  const k = zs.length;
  const names: Array<string | null> = new Array(k).fill(null);
  const used = new Set<string>();
  const candidates: Array<{ c: number; a: number; score: number }> = [];
  zs.forEach((z, c) => {
    const norm = Math.hypot(...z);
    if (norm < 0.5) return;
    const idle = typicallyIdle(features, medians?.[c]);
    ARCHETYPES.forEach((arch, a) => {
      if (idle && arch.active) return;
      let dot = 0;
      let wNorm = 0;
      let present = 0;
      features.forEach((f, t) => {
        const w = arch.signature[f];
        if (w === undefined) return;
        present++;
        dot += w * (z[t] as number);
        wNorm += w * w;
      });
      const needed = Math.min(2, Object.keys(arch.signature).length);
      if (present < needed || wNorm === 0) return;
      const score = dot / (Math.sqrt(wNorm) * norm);
      if (score >= ARCHETYPE_MIN_COSINE) candidates.push({ c, a, score });
    });
  });
  candidates.sort((x, y) => y.score - x.score || x.c - y.c || x.a - y.a);
  const usedArch = new Set<number>();
  for (const { c, a } of candidates) {
    if (names[c] !== null || usedArch.has(a)) continue;
    const zByName: Record<string, number> = {};
    features.forEach((f, t) => {
      zByName[f] = zs[c]?.[t] ?? 0;
    });
    const name = (ARCHETYPES[a] as (typeof ARCHETYPES)[number]).name(zByName);
    if (used.has(name)) continue;
    names[c] = name;
    used.add(name);
    usedArch.add(a);
  }
  for (let c = 0; c < k; c++) {
    if (names[c] !== null) continue;
    const z = zs[c] as number[];
    const ranked = features
      .map((f, t) => ({ f, z: z[t] as number }))
      .filter((x) => Math.abs(x.z) >= 0.3)
      .sort((x, y) => Math.abs(y.z) - Math.abs(x.z));
    const options: string[] = [];
    if (ranked.length === 0) options.push('Mainstream audience');
    for (let i = 0; i < ranked.length; i++) {
      for (let j = 0; j < ranked.length; j++) {
        const a = ranked[i] as { f: string; z: number };
        const b = ranked[j] as { f: string; z: number };
        if (i === j) continue;
        const adj = wordsFor(a.f, a.z).adj;
        const noun = wordsFor(b.f, b.z).noun;
        if (!adj.toLowerCase().includes(noun.toLowerCase())) options.push(`${adj} ${noun}`);
      }
      const solo = ranked[i] as { f: string; z: number };
      options.push(`${wordsFor(solo.f, solo.z).adj} audience`);
    }
    let name = options.find((o) => !used.has(o)) ?? (options[0] as string);
    for (let suffix = 2; used.has(name); suffix++) name = `${options[0]} ${suffix}`;
    names[c] = name;
    used.add(name);
  }
  return names as string[];
}

function wordsFor(feature: string, z: number): Words {
  const entry = LEXICON[feature];
  if (entry) return z >= 0 ? entry.high : entry.low;
  const [prefix, rest] = splitPrefix(feature);
  if (prefix === 'interest') {
    return z >= 0
      ? { adj: `${capitalize(rest)}-loving`, noun: `${rest} fans` }
      : { adj: `Not-into-${rest}`, noun: 'other-interest users' };
  }
  if (prefix === 'category') {
    return z >= 0
      ? { adj: `${capitalize(rest)}-focused`, noun: `${rest} shoppers` }
      : { adj: `Non-${rest}`, noun: 'other shoppers' };
  }
  const label = feature.replace(/_/g, ' ');
  return z >= 0
    ? { adj: `High-${label}`, noun: `high-${label} users` }
    : { adj: `Low-${label}`, noun: `low-${label} users` };
}

/** `interest:music` -> ['interest', 'music']; a plain feature has an empty prefix. */
export function splitPrefix(feature: string): [string, string] {
  const at = feature.indexOf(':');
  return at < 0 ? ['', feature] : [feature.slice(0, at).toLowerCase(), feature.slice(at + 1)];
}

function capitalize(s: string): string {
  return s.length > 0 ? s[0]?.toUpperCase() + s.slice(1) : s;
}

const UNITS: Record<string, string> = {
  followers: 'followers',
  log_followers: 'followers',
  views_per_week: 'views/week',
  engagement: 'engagements/week',
  likes_per_week: 'likes/week',
  shares_per_week: 'shares/week',
  comments_per_week: 'comments/week',
  clicks_per_week: 'clicks/week',
  engagement_rate: 'engagements per view',
  recency_days: 'days since last purchase',
  frequency: 'purchases/year',
  monetary: 'spent in the last year',
  spend_per_month: 'spent/month',
  purchases_per_month: 'purchases/month',
  avg_order_value: 'per order',
  active_days_per_week: 'active days/week',
  tenure_days: 'days of tenure',
};

/** Features that are amounts of money, shown with the currency. */
const MONEY_FEATURES = new Set(['monetary', 'spend_per_month', 'avg_order_value']);

/** A segment's medians and means of one feature next to the whole audience's. */
export interface TraitStats {
  segMedian: number;
  allMedian: number;
  segMean: number;
  allMean: number;
}

/** One trait as a sentence in original units, compared with the audience. */
export function traitText(feature: string, s: TraitStats, binary: boolean, currency: string | null): string {
  const [prefix, rest] = splitPrefix(feature);
  if (binary) {
    const what = prefix === 'interest' ? `interested in ${rest}` : feature.replace(/_/g, ' ');
    return `${percent(s.segMean)} ${what} vs ${percent(s.allMean)} overall`;
  }
  if (prefix === 'category') {
    return `${percent(s.segMean)} of purchases in ${rest} vs ${percent(s.allMean)} overall`;
  }
  const unit = UNITS[feature];
  const amount =
    currency !== null && MONEY_FEATURES.has(feature) && !Number.isNaN(s.segMedian)
      ? formatMoney(s.segMedian, currency)
      : formatNumber(s.segMedian);
  const head = unit
    ? `median ${amount} ${unit}`
    : `median ${feature.replace(/_/g, ' ')} ${formatNumber(s.segMedian)}`;
  return `${head}, ${compare(s.segMedian, s.allMedian)}`;
}

function compare(seg: number, all: number): string {
  if (Number.isNaN(seg)) return 'no data';
  // Next to a median of 0 on either side a ratio says nothing ("100% below the audience"): give the figure.
  if (!(all > 0) || seg === 0) return `audience median ${formatNumber(all)}`;
  const r = seg / all;
  if (r >= 1.5) return `${r.toFixed(1)}x the audience`;
  // One phrasing and one minus sign (as in formatChange) for every difference below 1.5x.
  const diff = Math.round((r - 1) * 100);
  return diff === 0
    ? 'about the audience median'
    : `${diff > 0 ? '+' : '−'}${Math.abs(diff)}% vs the audience`;
}

function percent(x: number): string {
  return Number.isNaN(x) ? 'n/a' : `${Math.round(x * 100)}%`;
}

/** 12.4k, 1.2M, 38, 3.1, 0.45. */
function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'n/a';
  const a = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(1))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(1))}k`;
  if (a >= 100) return String(Math.round(v));
  if (a >= 10) return trim(v.toFixed(1));
  if (a >= 1) return trim(v.toFixed(1));
  if (a === 0) return '0';
  return trim(v.toFixed(2));
}
