/**
 * Seeded Graph API fixtures: one Instagram professional account with media, thousands of comments from a pool of
 * commenters (some comments without `from`, as for deleted accounts), per-media insights; one Facebook Page with
 * posts and comments. Same seed, same data.
 */
import { Rng } from '../../../src/domain/random.ts';

const DAY = 86_400_000;

/** A comment as the stand-in stores it. */
export interface FixtureComment {
  id: string;
  at: number;
  /** The commenter (null: the platform leaves `from` out, e.g. a deleted account). */
  from: { id: string; username: string; name: string } | null;
}

/** A media object or Page post with its comments (oldest first) and lifetime insights. */
export interface FixtureContent {
  id: string;
  at: number;
  mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM';
  productType: 'FEED' | 'REELS';
  likes: number;
  comments: FixtureComment[];
  insights: { reach: number; impressions: number; saved: number };
}

/** Everything the Graph stand-in serves. */
export interface GraphFixtures {
  token: string;
  pageToken: string;
  user: { id: string; name: string };
  permissions: string[];
  igUser: { id: string; username: string };
  page: { id: string; name: string };
  /** Newest first, as the media edge lists them. */
  media: FixtureContent[];
  posts: FixtureContent[];
  /** The fixtures' "now": every time is before it. */
  now: number;
}

/** Options for the generator. */
export interface GraphFixtureOptions {
  seed?: number;
  media?: number;
  posts?: number;
  /** Mean comments per media / post. */
  meanComments?: number;
  commenters?: number;
  now?: number;
}

/** Generates the fixtures. */
export function graphFixtures(options: GraphFixtureOptions = {}): GraphFixtures {
  const rng = new Rng(options.seed ?? 15);
  const now = options.now ?? Date.UTC(2026, 11, 1, 12);
  const commenters = Array.from({ length: options.commenters ?? 900 }, (_, i) => ({
    id: String(17_841_500_000_000 + i),
    username: `fan_${i}_${rng.int(100, 999)}`,
    name: `Fan Number${i}`,
  }));
  let nextId = 1;
  const content = (count: number, prefix: string): FixtureContent[] => {
    const out: FixtureContent[] = [];
    for (let i = 0; i < count; i++) {
      // Spread over ~400 days, newest first.
      const at = now - Math.floor((i + rng.next()) * (400 / count) * DAY) - DAY;
      const n = rng.poisson(options.meanComments ?? 25);
      const comments: FixtureComment[] = [];
      for (let c = 0; c < n; c++) {
        const who = commenters[rng.int(0, commenters.length - 1)];
        comments.push({
          id: `${prefix}c${nextId++}`,
          at: Math.min(now - 60_000, at + Math.floor(rng.exponential(1 / (3 * DAY)))),
          from: nextId % 97 === 0 || who === undefined ? null : who,
        });
      }
      comments.sort((a, b) => a.at - b.at);
      const reach = rng.int(200, 20_000);
      out.push({
        id: `${prefix}${18_000_000_000 + nextId++}`,
        at,
        mediaType: rng.bernoulli(0.6) ? 'IMAGE' : rng.bernoulli(0.5) ? 'VIDEO' : 'CAROUSEL_ALBUM',
        productType: rng.bernoulli(0.2) ? 'REELS' : 'FEED',
        likes: rng.int(0, 3000),
        comments,
        insights: { reach, impressions: reach + rng.int(0, reach), saved: rng.int(0, Math.ceil(reach / 20)) },
      });
    }
    return out;
  };
  return {
    token: 'EAAG-user-token-fixture',
    pageToken: 'EAAG-page-token-fixture',
    user: { id: '10158000000000001', name: 'Marketing Admin' },
    permissions: [
      'instagram_basic',
      'instagram_manage_comments',
      'instagram_manage_insights',
      'pages_show_list',
      'pages_read_engagement',
      'pages_read_user_content',
    ],
    igUser: { id: '17841400000000001', username: 'acme.store' },
    page: { id: '104000000000001', name: 'Acme Store' },
    media: content(options.media ?? 120, ''),
    posts: content(options.posts ?? 30, '104000000000001_'),
    now,
  };
}

/** How many comments of the fixtures carry a `from` (the ones a sync can attribute). */
export function attributableComments(items: readonly FixtureContent[]): number {
  return items.reduce((sum, c) => sum + c.comments.filter((k) => k.from !== null).length, 0);
}
