/**
 * Shared setup for digest tests: a real store on a temp file filled by the real sample generator, a clock
 * the test moves by hand, timers whose tick never fires by itself (tests call tick()), a log capture, and
 * the real Slack transport pointed at the Web API stand-in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryPolicy, DigestTransport } from '../../src/digest/deliver.ts';
import {
  createDigestScheduler,
  type DigestScheduler,
  type DigestSchedulerOptions,
} from '../../src/digest/scheduler.ts';
import type { Timers } from '../../src/domain/timers.ts';
import type { DigestSchedule } from '../../src/domain/types.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { generateSample, type SampleData } from '../../src/sample/generate.ts';
import { storeSample } from '../../src/sample/load.ts';
import { createSlackTransport } from '../../src/slack/digest-transport.ts';
import { type FileStore, openStore } from '../../src/store/store.ts';
import type { SlackStandIn } from '../support/slack-stand-in.ts';

/** The sample's end: Monday 1 June 2026, 07:00 UTC (09:00 in Berlin). */
export const SAMPLE_END = new Date('2026-06-01T07:00:00Z');

let sample: SampleData | null = null;

/** One small sample for every digest test (generated once per test file). */
export function smallSample(): SampleData {
  // A busier shop than the default sample's ~5% buyers a month, so that 300 profiles hold the 20 purchasers a
  // spend forecast needs.
  sample ??= generateSample({ profiles: 300, seed: 5, end: SAMPLE_END, buyerShare: 0.2 });
  return sample;
}

/** A clock the test moves. */
export interface FakeClock {
  (): Date;
  set(iso: string | number): void;
  advance(ms: number): void;
  now(): number;
}

/** A clock starting at `start`. */
export function fakeClock(start: string | number): FakeClock {
  let now = typeof start === 'number' ? start : Date.parse(start);
  const clock = (() => new Date(now)) as FakeClock;
  clock.set = (at) => {
    now = typeof at === 'number' ? at : Date.parse(at);
  };
  clock.advance = (ms) => {
    now += ms;
  };
  clock.now = () => now;
  return clock;
}

/** Timers whose scheduled callbacks only run when the test says so; sleeps are real but short by policy. */
export function manualTimers(): Timers & { delays: number[]; fire(): void } {
  const pending: Array<() => void> = [];
  const delays: number[] = [];
  return {
    delays,
    setTimeout(fn, ms) {
      delays.push(ms);
      pending.push(fn);
      return {
        cancel() {
          const i = pending.indexOf(fn);
          if (i >= 0) pending.splice(i, 1);
        },
      };
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 1500))),
    monotonic: () => performance.now(),
    fire() {
      for (const fn of pending.splice(0)) fn();
    },
  };
}

/** A logger writing into an array. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('debug', (line) => lines.push(line)), lines };
}

/** A temp directory with a store holding the small sample; `cleanup` removes it. */
export async function sampleStore(): Promise<{
  store: FileStore;
  file: string;
  dir: string;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'audience-digest-'));
  const file = join(dir, 'audience.db');
  const store = await openStore({ file, flushDelayMs: 10, onNotice: () => undefined });
  const data = smallSample();
  await storeSample(store, data, SAMPLE_END);
  return {
    store,
    file,
    dir,
    async cleanup() {
      await store.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A schedule as `digest add` would store it. */
export function schedule(overrides: Partial<DigestSchedule> = {}): DigestSchedule {
  return {
    id: 'sch_1',
    channel_id: 'C0GROWTH1',
    owner_id: 'U0OWNER01',
    cadence: 'weekly',
    weekdays: [1],
    local_time: '09:00',
    time_zone: 'Europe/Berlin',
    paused: false,
    last_error: null,
    created_at: Date.parse('2026-05-01T00:00:00Z'),
    options: { predictions: false, recommendations: false, k: 4, chart: false },
    ...overrides,
  };
}

/** Fast retries for tests; the rules are the same as in production. */
export const FAST_POLICY: DeliveryPolicy = { maxAttempts: 3, backoffMs: 10, maxRateLimitWaits: 5 };

/** The real Slack transport against the stand-in. */
export function standInTransport(standIn: SlackStandIn, logger: Logger): DigestTransport {
  return createSlackTransport({ token: 'xoxb-test-token', apiUrl: standIn.apiUrl, logger, timeoutMs: 5000 });
}

/** A scheduler over the stand-in with fast pacing and retries. */
export function testScheduler(
  options: Pick<DigestSchedulerOptions, 'store' | 'clock' | 'logger'> &
    Partial<DigestSchedulerOptions> & { standIn: SlackStandIn },
): DigestScheduler {
  const { standIn, ...rest } = options;
  return createDigestScheduler({
    transport: standInTransport(standIn, options.logger),
    config: { currency: 'USD', minCohortSize: 10, digestGraceHours: 6 },
    timers: manualTimers(),
    channelIntervalMs: 0,
    policy: FAST_POLICY,
    ...rest,
  });
}
