/**
 * Seeded YouTube fixtures: one channel with its uploads (newest first), thousands of top-level comments (newest
 * first per video, some without an author channel), statistics, one video with comments disabled.
 */
import { Rng } from '../../../src/domain/random.ts';

const DAY = 86_400_000;

/** A top-level comment. */
export interface FixtureYtComment {
  id: string;
  at: number;
  author: { channelId: string; displayName: string } | null;
}

/** An upload. */
export interface FixtureVideo {
  id: string;
  at: number;
  views: number;
  likes: number;
  commentsDisabled: boolean;
  /** Newest first, as commentThreads?order=time lists them. */
  comments: FixtureYtComment[];
}

/** Everything the YouTube stand-in serves. */
export interface YouTubeFixtures {
  apiKey: string;
  accessToken: string;
  channel: { id: string; title: string; uploads: string };
  videos: FixtureVideo[];
  now: number;
}

/** Generates the fixtures. */
export function youtubeFixtures(
  options: { seed?: number; videos?: number; meanComments?: number; now?: number } = {},
) {
  const rng = new Rng(options.seed ?? 15);
  const now = options.now ?? Date.UTC(2026, 11, 1, 12);
  const count = options.videos ?? 80;
  const authors = Array.from({ length: 700 }, (_, i) => ({
    channelId: `UCfan${String(i).padStart(6, '0')}xxxxxxxxxxxx`,
    displayName: `@viewer${i}`,
  }));
  let next = 1;
  const videos: FixtureVideo[] = [];
  for (let v = 0; v < count; v++) {
    const at = now - Math.floor((v + rng.next()) * (365 / count) * 86_400) * 1000 - DAY;
    const disabled = v === 3;
    const n = disabled ? 0 : rng.poisson(options.meanComments ?? 40);
    const comments: FixtureYtComment[] = [];
    for (let c = 0; c < n; c++) {
      const who = authors[rng.int(0, authors.length - 1)];
      const when = Math.min(now - 60_000, at + Math.floor(rng.exponential(1 / (5 * 86_400))) * 1000);
      comments.push({
        id: `Ugz${next++}AaBb`,
        at: when,
        author: next % 89 === 0 || who === undefined ? null : who,
      });
    }
    comments.sort((a, b) => b.at - a.at);
    videos.push({
      id: `vid${String(v).padStart(8, '0')}`,
      at,
      views: rng.int(100, 100_000),
      likes: rng.int(0, 5000),
      commentsDisabled: disabled,
      comments,
    });
  }
  return {
    apiKey: 'AIzaSy-fixture-key',
    accessToken: 'ya29.fixture-token',
    channel: { id: 'UCacmeStore000000000000', title: 'Acme Store', uploads: 'UUacmeStore000000000000' },
    videos,
    now,
  } satisfies YouTubeFixtures;
}

/** Comments a sync can attribute (with an author channel id). */
export function attributableYtComments(videos: readonly FixtureVideo[]): number {
  return videos.reduce((sum, v) => sum + v.comments.filter((c) => c.author !== null).length, 0);
}
