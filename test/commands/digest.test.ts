import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../../commands/index.ts';
import type { Router } from '../../commands/router.ts';
import { renderText } from '../../src/blocks/plain-text.ts';
import { loadConfig } from '../../src/config.ts';
import { CONSOLE_INVOCATION, runConsole } from '../../src/console.ts';
import { createConsoleTransport } from '../../src/digest/deliver.ts';
import { createDigestScheduler, type DigestScheduler } from '../../src/digest/scheduler.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { captureLogger, fakeClock, manualTimers, sampleStore } from '../digest/helpers.ts';

// Monday 1 June 2026, 10:00 UTC: 12:00 in Berlin, 06:00 in New York.
const clock = fakeClock('2026-06-01T10:00:00Z');
const OWNER: Invocation = { userId: 'U0OWNER01', channelId: 'C0GROWTH1', surface: 'slack' };
const OTHER: Invocation = { userId: 'U0OTHER01', channelId: 'C0GROWTH1', surface: 'slack' };
const ADMIN: Invocation = { userId: 'U0ADMIN01', channelId: null, surface: 'slack' };

let env: Awaited<ReturnType<typeof sampleStore>>;
let router: Router;
let scheduler: DigestScheduler;
let printed: string;

beforeAll(async () => {
  env = await sampleStore();
  const config = loadConfig({ DATA_FILE: env.file, ADMIN_USER_IDS: 'U0ADMIN01' });
  const output = new PassThrough();
  printed = '';
  output.on('data', (chunk) => {
    printed += String(chunk);
  });
  scheduler = createDigestScheduler({
    store: env.store,
    clock,
    logger: captureLogger().logger,
    config,
    transport: createConsoleTransport(output),
    timers: manualTimers(),
    channelIntervalMs: 0,
  });
  await scheduler.start();
  router = registerCommands({ store: env.store, clock, config, digests: scheduler }, (error) => {
    throw error;
  });
});
afterAll(async () => {
  await scheduler.stop();
  await env.cleanup();
});

const say = async (text: string, who: Invocation = CONSOLE_INVOCATION) => {
  const reply = await router.dispatch(`/audience ${text}`, who);
  return { reply, text: renderText(reply), data: reply.data as Record<string, unknown> };
};

describe('/audience digest through the router', () => {
  it('adds a schedule from the text form and confirms the next three deliveries in its zone', async () => {
    const { text, data } = await say('digest add #growth weekly mon 09:00 Europe/Berlin', OWNER);
    expect(text).toContain('Digest sch_1 set up: weekly Mon at 09:00 Europe/Berlin, to #growth.');
    expect(text).toContain(
      '• Mon 8 Jun 2026, 09:00 GMT+2\n• Mon 15 Jun 2026, 09:00 GMT+2\n• Mon 22 Jun 2026, 09:00 GMT+2',
    );
    expect(data.perPerson).toBe(true);
    const stored = env.store.data.schedules[0];
    // Local time plus zone, never an instant.
    expect(stored).toMatchObject({
      id: 'sch_1',
      channel_id: '#growth',
      owner_id: 'U0OWNER01',
      cadence: 'weekly',
      weekdays: [1],
      local_time: '09:00',
      time_zone: 'Europe/Berlin',
      paused: false,
    });
  });

  it('accepts channel mentions as Slack sends them and channel ids, and content options', async () => {
    const mention = await say(
      'digest add <#C0GROWTH1|growth> daily 7:30am america/new_york predictions=no k=5',
      OWNER,
    );
    expect(mention.text).toContain('daily at 07:30 America/New_York, to #C0GROWTH1');
    expect(mention.text).toContain('• Mon 1 Jun 2026, 07:30 EDT');
    const id = await say('digest add C0SALES01 monthly tue 17:00 Asia/Tokyo recommendations=no', OWNER);
    expect(id.text).toContain('monthly, first Tue at 17:00 Asia/Tokyo, to #C0SALES01');
    expect(id.text).toContain('• Tue 2 Jun 2026, 17:00 GMT+9');
    expect(env.store.data.schedules.map((s) => s.options)).toEqual([
      { predictions: true, recommendations: true, k: 'auto', chart: true },
      { predictions: false, recommendations: true, k: 5, chart: true },
      { predictions: true, recommendations: false, k: 'auto', chart: true },
    ]);
  });

  it('refuses an unknown zone, a bad time or weekday with one line and an example; nothing is saved', async () => {
    const before = env.store.data.schedules.length;
    const cases: Array<[string, RegExp]> = [
      [
        'digest add #growth weekly mon 09:00 Europe/Berln',
        /"Europe\/Berln" is not a known time zone \(did you mean Europe\/Berlin\?\)/,
      ],
      ['digest add #growth weekly mon 24:30 Europe/Berlin', /"24:30" is not a time of day/],
      ['digest add #growth weekly mnday 09:00 Europe/Berlin', /"mnday" is not a weekday/],
      ['digest add #growth weekly mon 09:00', /say in which time zone/],
    ];
    for (const [command, reason] of cases) {
      const { reply, data } = await say(command, OWNER);
      expect(String(data.error)).toMatch(reason);
      expect(String(data.error)).toContain(
        'for example: /audience digest add #growth weekly mon 09:00 Europe/Berlin',
      );
      expect(String(data.error)).not.toContain('\n');
      expect(reply.text).toContain('Usage: /audience digest');
    }
    expect(env.store.data.schedules).toHaveLength(before);
  });

  it('lists every schedule with its next delivery in its zone', async () => {
    const { text, data } = await say('digest list');
    expect(text).toContain(
      'sch_1 #growth: weekly Mon at 09:00 Europe/Berlin · next Mon 8 Jun 2026, 09:00 GMT+2 · owner @U0OWNER01',
    );
    expect(text).toContain(
      'sch_2 #C0GROWTH1: daily at 07:30 America/New_York · next Mon 1 Jun 2026, 07:30 EDT',
    );
    expect((data.schedules as unknown[]).length).toBe(3);
    expect((await say('digest')).text).toContain('Create a digest with');
  });

  it('previews privately, and runs now by posting (in local mode: printing under a header naming the channel)', async () => {
    const preview = await say('digest preview sch_1', OTHER);
    expect(preview.text).toContain('Preview, only visible to you');
    expect(preview.text).not.toContain('[Pause this digest]');
    expect(preview.data.perPerson).toBe(true);

    const run = await say('digest run sch_1', OWNER);
    expect(run.text).toContain('Digest sent to #growth (sch_1:now-2026-06-01T12:00)');
    expect(printed).toContain('──── Digest to #growth (sch_1:now-2026-06-01T12:00) ────');
    expect(printed).toContain('Weekly audience digest');
    const again = await say('digest run sch_1', OWNER);
    expect(again.data.error).toMatch(/already sent this minute/);
  });

  it('previews without writing anything; only the delivery records the segmentation it showed', async () => {
    // A fresh store: its sample has no stored segmentation or model yet.
    const fresh = await sampleStore();
    try {
      const config = loadConfig({ DATA_FILE: fresh.file });
      const local = registerCommands({ store: fresh.store, clock, config }, (error) => {
        throw error;
      });
      await local.dispatch('/audience digest add #growth weekly mon 09:00 Europe/Berlin', OWNER);
      const before = JSON.stringify([fresh.store.data.segmentRuns, fresh.store.data.models]);
      const preview = await local.dispatch('/audience digest preview sch_1', OWNER);
      expect(renderText(preview)).toContain('segments this week');
      expect(JSON.stringify([fresh.store.data.segmentRuns, fresh.store.data.models])).toBe(before);
    } finally {
      await fresh.cleanup();
    }
  });

  it('lets only the owner or an admin pause, resume, delete or run', async () => {
    for (const action of ['pause', 'resume', 'delete', 'run']) {
      const refused = await say(`digest ${action} sch_1`, OTHER);
      expect(refused.data.error).toBe(
        `only the owner of sch_1 (<@U0OWNER01>) or an admin can ${action === 'run' ? 'send' : action} it; ask them, or create your own with /audience digest`,
      );
    }
    const paused = await say('digest pause sch_1', OWNER);
    expect(paused.text).toContain('Digest sch_1 (#growth, weekly Mon at 09:00 Europe/Berlin) is paused.');
    expect(env.store.data.schedules[0]?.paused).toBe(true);
    expect((await say('digest list')).text).toContain(
      'sch_1 #growth: weekly Mon at 09:00 Europe/Berlin · paused',
    );
    const resumed = await say('digest resume sch_1', ADMIN);
    expect(resumed.text).toContain('Digest sch_1 resumed. Next delivery Mon 8 Jun 2026, 09:00 GMT+2.');
    const deleted = await say('digest delete sch_3', OWNER);
    expect(deleted.text).toContain('Digest sch_3 (#C0SALES01) deleted.');
    expect(env.store.data.schedules.map((s) => s.id)).toEqual(['sch_1', 'sch_2']);
    // A deleted id is never reused: its delivery keys stay its own.
    await say('digest add #x weekly fri 08:00 UTC', OWNER);
    expect(env.store.data.schedules.map((s) => s.id)).toEqual(['sch_1', 'sch_2', 'sch_4']);
  });

  it('answers unknown ids and actions with what exists', async () => {
    expect((await say('digest pause sch_99')).data.error).toBe(
      'there is no digest sch_99; the digests are sch_1, sch_2, sch_4',
    );
    expect((await say('digest frobnicate')).data.error).toMatch(
      /"frobnicate" is not a digest action; use add, list/,
    );
  });

  it('works the same from the local console', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c) => {
      text += String(c);
    });
    const done = runConsole(router, { input, output, prompt: false });
    input.end('digest add #console weekly wed 18:00 Europe/London\ndigest list\nexit\n');
    await done;
    expect(text).toContain('Digest sch_5 set up: weekly Wed at 18:00 Europe/London, to #console.');
    expect(text).toContain(
      'sch_5 #console: weekly Wed at 18:00 Europe/London · next Wed 3 Jun 2026, 18:00 GMT+1 · owner local-user',
    );
  });
});
