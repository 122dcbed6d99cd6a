/**
 * Digest benchmark: 1,000 schedules due in the same minute on a 100k-profile store (7 weeks of sample
 * data, plus last week's segmentation to compare with), spread over 200 channels and 4 content
 * configurations, delivered by the real scheduler and Slack transport to the Web API stand-in.
 * Checks that every digest arrives exactly once, that no channel gets more than one post per second, and
 * that content is computed once per configuration. Prints the time to deliver all and peak memory.
 * Run: npx tsx bench/digest-bench.ts [--schedules=N] [--profiles=N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DigestTransport } from '../src/digest/deliver.ts';
import { createDigestScheduler } from '../src/digest/scheduler.ts';
import type { DigestSchedule } from '../src/domain/types.ts';
import { dataAsOf } from '../src/engine/as-of.ts';
import { segmentAudience } from '../src/engine/segments.ts';
import { createLogger } from '../src/logger.ts';
import { toSegmentRun } from '../src/queries/segmentation.ts';
import { generateSample } from '../src/sample/generate.ts';
import { createSlackTransport } from '../src/slack/digest-transport.ts';
import { markAudienceChanged, openStore } from '../src/store/store.ts';
import { startSlackStandIn } from '../test/support/slack-stand-in.ts';

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.split('=')[1]) : fallback;
};
const SCHEDULES = arg('schedules', 1000);
const PROFILES = arg('profiles', 100_000);
const CHANNELS = 200;
const WEEK = 7 * 86_400_000;
// Monday 1 June 2026, 07:00 UTC: 09:00 in Berlin, 08:00 in London, 03:00 in New York.
const DUE = Date.parse('2026-06-01T07:00:00Z');
const ZONES: Array<[string, string]> = [
  ['Europe/Berlin', '09:00'],
  ['Europe/London', '08:00'],
  ['America/New_York', '03:00'],
  ['Asia/Kolkata', '12:30'],
];
const CONFIGS = [
  { predictions: true, recommendations: true, k: 'auto', chart: false },
  { predictions: true, recommendations: false, k: 'auto', chart: false },
  { predictions: false, recommendations: true, k: 5, chart: false },
  { predictions: false, recommendations: false, k: 4, chart: false },
];

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const gapText = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : 'n/a (one post each)');

const dir = await mkdtemp(join(tmpdir(), 'digest-bench-'));
const standIn = await startSlackStandIn();
try {
  let t = performance.now();
  const sample = generateSample({ profiles: PROFILES, seed: 11, end: new Date(DUE - 60_000), weeks: 7 });
  const store = await openStore({ file: join(dir, 'audience.db'), onNotice: () => undefined });
  await store.commit((d) => {
    d.profiles = sample.profiles;
    d.products = sample.products;
    d.interactions = sample.interactions;
    d.attributes = sample.attributes;
    markAudienceChanged(d, new Date(DUE - WEEK), 'sample');
  });
  const setupMs = performance.now() - t;

  // Last week's segmentation (the data as it was a week ago), for the week-over-week comparison.
  t = performance.now();
  const lastWeek = segmentAudience(store.data, {
    k: 'auto',
    asOf: dataAsOf(store.data.interactions, DUE) - WEEK,
  });
  const previous = toSegmentRun(lastWeek, { id: 'seg-last-week', createdAt: DUE - WEEK, dataVersion: 0 });
  const schedules: DigestSchedule[] = Array.from({ length: SCHEDULES }, (_, i) => {
    const [zone, time] = ZONES[i % ZONES.length] as [string, string];
    return {
      id: `sch_${i + 1}`,
      channel_id: `C0BENCH${String(i % CHANNELS).padStart(3, '0')}`,
      owner_id: `U0OWNER${String(i % 50).padStart(2, '0')}`,
      cadence: 'weekly',
      weekdays: [1],
      local_time: time,
      time_zone: zone,
      paused: false,
      last_error: null,
      created_at: DUE - 86_400_000,
      options: { ...CONFIGS[Math.floor(i / CHANNELS) % CONFIGS.length] },
    };
  });
  await store.commit((d) => {
    d.segmentRuns.push(previous);
    d.schedules = schedules;
  });
  const previousMs = performance.now() - t;
  for (let c = 0; c < CHANNELS; c++) {
    // One channel in ten is public but not joined yet: the deliverer joins it.
    standIn.addChannel({
      id: `C0BENCH${String(c).padStart(3, '0')}`,
      name: `bench-${c}`,
      member: c % 10 !== 0,
    });
  }

  // Save timing of one full-file save, since each delivery round commits its `started` records first.
  t = performance.now();
  await store.commit(() => undefined);
  const saveMs = performance.now() - t;

  const logLines: string[] = [];
  const logger = createLogger('warn', (line) => logLines.push(line));
  // When each post leaves (after the pacer): the stand-in shares this process, so its receipt times also
  // carry any event-loop stall and can bunch up posts that left far enough apart.
  const sent = new Map<string, number[]>();
  const slack = createSlackTransport({ token: 'xoxb-bench', apiUrl: standIn.apiUrl, logger });
  const transport: DigestTransport = {
    ...slack,
    post(message, how) {
      if (!how) return slack.post(message);
      // Timed as each attempt leaves the pacer (the policy runs inside the transport).
      const wait = async (channel: string) => {
        await how.pacer.wait(channel);
        const list = sent.get(message.channel) ?? [];
        list.push(performance.now());
        sent.set(message.channel, list);
      };
      return slack.post(message, { ...how, pacer: { ...how.pacer, wait } });
    },
  };
  const scheduler = createDigestScheduler({
    store,
    clock: () => new Date(now),
    logger,
    config: { currency: 'USD', minCohortSize: 10, digestGraceHours: 6 },
    transport,
  });
  standIn.reset();
  // Five minutes before: the scheduler starts (claims the data file) and prepares the content due soon.
  let now = DUE - 5 * 60_000;
  t = performance.now();
  await scheduler.start();
  const prepareMs = performance.now() - t;
  const preparedBeforeDue = scheduler.content.computed;
  // The minute they are due: one tick delivers them all.
  now = DUE + 10_000;
  const start = performance.now();
  const tick = await scheduler.tick();
  const deliverMs = performance.now() - start;
  await scheduler.stop();

  const posts = standIn.callsTo('chat.postMessage');
  const keys = posts.map((c) => (c.body.metadata as { event_payload?: { key?: string } }).event_payload?.key);
  const unique = new Set(keys);
  const delivered = store.data.deliveries.filter((d) => d.status === 'delivered').length;
  const smallestGap = (perChannel: Iterable<number[]>) => {
    let gap = Number.POSITIVE_INFINITY;
    for (const times of perChannel) {
      times.sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++)
        gap = Math.min(gap, (times[i] as number) - (times[i - 1] as number));
    }
    return gap;
  };
  const received = new Map<string, number[]>();
  for (const c of posts) {
    const list = received.get(String(c.body.channel)) ?? [];
    list.push(c.at);
    received.set(String(c.body.channel), list);
  }
  // Every attempt counts, including a first try to a channel not joined yet (refused with not_in_channel).
  const minGap = smallestGap(sent.values());
  const minGapReceived = smallestGap(received.values());
  const configs = new Set(schedules.map((x) => JSON.stringify(x.options))).size;
  const first = Math.min(...posts.map((c) => c.at));
  const last = Math.max(...posts.map((c) => c.at));

  const rows: Array<[string, string]> = [
    [
      'profiles / interactions',
      `${PROFILES.toLocaleString('en-US')} / ${sample.interactions.length.toLocaleString('en-US')}`,
    ],
    ['schedules / channels', `${SCHEDULES} / ${CHANNELS} (Slack allows about 1 post per second per channel)`],
    ['setup (generate + first save)', s(setupMs)],
    ["last week's segmentation (setup)", s(previousMs)],
    ['one full save of the store', `${saveMs.toFixed(0)} ms`],
    [
      'start, and content prepared ahead (5 min before due)',
      `${s(prepareMs)} (${preparedBeforeDue} configurations)`,
    ],
    [
      'time to deliver all (due tick to last outcome)',
      `${s(deliverMs)} (${tick.delivered.length} delivered in the tick)`,
    ],
    ['  of which posting (first to last post)', s(last - first)],
    ['content computed', `${scheduler.content.computed} times for ${configs} configurations`],
    ['digests delivered / posts to Slack', `${delivered} / ${posts.length} (${unique.size} distinct keys)`],
    ['channels joined on the way', String(standIn.callsTo('conversations.join').length)],
    [
      'smallest gap between two posts to one channel',
      `${gapText(minGap)} as sent, ${gapText(minGapReceived)} as received`,
    ],
    ['peak memory (max RSS)', mb(process.resourceUsage().maxRSS * 1024)],
    ['warnings and errors logged', String(logLines.length)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);

  const problems: string[] = [];
  if (delivered !== SCHEDULES) problems.push(`${SCHEDULES - delivered} digests not delivered`);
  if (unique.size !== SCHEDULES)
    problems.push(`${unique.size} distinct keys posted for ${SCHEDULES} schedules`);
  if (scheduler.content.computed !== configs)
    problems.push('content computed more than once per configuration');
  if (minGap < 1000) problems.push(`a channel got two posts ${minGap.toFixed(0)} ms apart`);
  if (standIn.violations.length > 0)
    problems.push(`Block Kit violations: ${standIn.violations.slice(0, 3).join('; ')}`);
  if (problems.length > 0) {
    process.stdout.write(`\nFAILED: ${problems.join('; ')}\n${logLines.slice(0, 5).join('\n')}\n`);
    process.exitCode = 1;
  }
  await store.close();
} finally {
  await standIn.close();
  await rm(dir, { recursive: true, force: true });
}
