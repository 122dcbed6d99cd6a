import { describe, expect, it } from 'vitest';
import {
  dueSoon,
  INTERRUPTED,
  LOOKBACK_MS,
  nextTickDelay,
  planInterrupted,
  planRounds,
  planRunNow,
  planTick,
  RESCAN_MS,
  retryRefusal,
  roundsPerSave,
  SENDING,
  scanFrom,
} from '../../src/digest/planner.ts';
import type { DeliveryRecord } from '../../src/domain/types.ts';
import { schedule } from './helpers.ts';

// Monday 1 June 2026, 09:00 in Berlin (CEST).
const DUE = Date.parse('2026-06-01T07:00:00Z');
const HOUR = 3_600_000;
const CREATED = Date.parse('2026-05-31T00:00:00Z');
const base = { inflight: new Set<string>(), graceHours: 6 };

describe('planTick (pure: no clock, no timers, no store)', () => {
  it('delivers an occurrence that just fell due, once: a recorded or in-flight key is left alone', () => {
    const s = schedule({ created_at: CREATED });
    const input = {
      ...base,
      schedules: [s],
      recorded: new Set<string>(),
      from: DUE - HOUR,
      now: DUE + 10_000,
    };
    const plan = planTick(input);
    expect(plan.deliver).toEqual([{ schedule: s, key: 'sch_1:2026-06-01', dueAt: DUE, lateByMs: 10_000 }]);
    expect(plan.skip).toEqual([]);
    expect(planTick({ ...input, recorded: new Set(['sch_1:2026-06-01']) }).deliver).toEqual([]);
    expect(planTick({ ...input, inflight: new Set(['sch_1:2026-06-01']) }).deliver).toEqual([]);
  });

  it('delivers late within the grace period and skips (and reports) beyond it', () => {
    const s = schedule({ created_at: CREATED });
    const late = planTick({
      ...base,
      schedules: [s],
      recorded: new Set(),
      from: DUE - HOUR,
      now: DUE + 5 * HOUR,
    });
    expect(late.deliver[0]?.lateByMs).toBe(5 * HOUR);
    const now = DUE + 2 * 24 * HOUR;
    const missed = planTick({ ...base, schedules: [s], recorded: new Set(), from: now - LOOKBACK_MS, now });
    expect(missed.deliver).toEqual([]);
    expect(missed.skip).toEqual([
      {
        key: 'sch_1:2026-06-01',
        schedule_id: 'sch_1',
        status: 'skipped',
        at: now,
        detail: 'missed by 2 days while the app was not running (grace period 6 h, DIGEST_GRACE_HOURS)',
      },
    ]);
    expect(missed.missed).toEqual([{ key: 'sch_1:2026-06-01', channel: 'C0GROWTH1', dueAt: DUE }]);
  });

  it('skips occurrences of a paused schedule, and never looks before a schedule was created', () => {
    const paused = schedule({ created_at: CREATED, paused: true });
    const plan = planTick({
      ...base,
      schedules: [paused],
      recorded: new Set(),
      from: DUE - HOUR,
      now: DUE + 1,
    });
    expect(plan.skip.map((r) => [r.key, r.detail])).toEqual([['sch_1:2026-06-01', 'paused at the time']]);
    const fresh = schedule({ created_at: DUE + 1 });
    expect(
      planTick({ ...base, schedules: [fresh], recorded: new Set(), from: 0, now: DUE + 10 }).deliver,
    ).toEqual([]);
  });

  it('keeps local times across DST: 09:00 Berlin is 08:00 UTC in winter and 07:00 UTC in summer', () => {
    const s = schedule({ created_at: Date.parse('2026-03-01T00:00:00Z') });
    const from = Date.parse('2026-03-20T00:00:00Z');
    const now = Date.parse('2026-04-01T00:00:00Z');
    const plan = planTick({ ...base, graceHours: 24 * 30, schedules: [s], recorded: new Set(), from, now });
    expect(plan.deliver.map((j) => new Date(j.dueAt ?? 0).toISOString())).toEqual([
      '2026-03-23T08:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });

  it('scans far back on the first tick and a little before the previous scan afterwards', () => {
    expect(scanFrom(null, DUE)).toBe(DUE - LOOKBACK_MS);
    expect(scanFrom(DUE, DUE + 30_000)).toBe(DUE - RESCAN_MS);
  });
});

describe('the rest of the plan', () => {
  const started = (key: string, detail: string): DeliveryRecord => ({
    key,
    schedule_id: 'sch_1',
    status: 'started',
    at: DUE,
    detail,
  });

  it('marks started records left by a crash as interrupted, once, and leaves in-flight ones alone', () => {
    const left = started('sch_1:a', SENDING);
    const marked = started('sch_1:b', `${INTERRUPTED}: earlier`);
    const sending = started('sch_1:c', SENDING);
    const { found, mark } = planInterrupted([left, marked, sending], new Set(['sch_1:c']));
    expect(found.map((r) => r.key)).toEqual(['sch_1:a', 'sch_1:b']);
    expect(mark.map((r) => r.key)).toEqual(['sch_1:a']);
    expect(mark[0]?.detail).toMatch(new RegExp(`^${INTERRUPTED}: the app stopped while sending it`));
  });

  it('allows a retry of failed, skipped and interrupted deliveries only', () => {
    const none = new Set<string>();
    expect(retryRefusal({ ...started('k', SENDING), status: 'delivered' }, none)).toMatch(
      /already delivered/,
    );
    expect(retryRefusal(started('k', SENDING), none)).toMatch(/being sent right now/);
    expect(retryRefusal({ ...started('k', SENDING), status: 'failed' }, new Set(['k']))).toMatch(
      /being sent/,
    );
    expect(retryRefusal(started('k', `${INTERRUPTED}: x`), none)).toBeNull();
    expect(retryRefusal({ ...started('k', 'x'), status: 'failed' }, none)).toBeNull();
    expect(retryRefusal({ ...started('k', 'x'), status: 'skipped' }, none)).toBeNull();
  });

  it('sends "now" under a per-minute key in the schedule zone, once per minute', () => {
    const s = schedule();
    const plan = planRunNow(s, new Map(), DUE);
    expect(plan).toEqual({
      job: { schedule: s, key: 'sch_1:now-2026-06-01T09:00', dueAt: null, lateByMs: 0 },
    });
    const key = 'sch_1:now-2026-06-01T09:00';
    const again = planRunNow(s, new Map([[key, { ...started(key, ''), status: 'delivered' }]]), DUE + 5_000);
    expect(again).toEqual({ refusal: 'sch_1 was already sent this minute; wait a minute to send it again' });
  });

  it('sends at most one per channel per round, in order', () => {
    const a = schedule({ id: 'sch_1', channel_id: 'C1' });
    const b = schedule({ id: 'sch_2', channel_id: 'C1' });
    const c = schedule({ id: 'sch_3', channel_id: 'C2' });
    const job = (s: typeof a) => ({ schedule: s, key: `${s.id}:x`, dueAt: DUE, lateByMs: 0 });
    expect(planRounds([job(a), job(b), job(c)]).map((r) => r.map((j) => j.key))).toEqual([
      ['sch_1:x', 'sch_3:x'],
      ['sch_2:x'],
    ]);
    expect(roundsPerSave(0, 1100)).toBe(1);
    expect(roundsPerSave(5000, 1100)).toBe(5);
    expect(roundsPerSave(60_000, 1100)).toBe(10);
  });

  it('wakes up at the next occurrence when it is sooner than a tick, never sooner than a second', () => {
    const s = schedule({ created_at: CREATED });
    expect(nextTickDelay([s], DUE - 10_000, 30_000)).toBe(10_050);
    expect(nextTickDelay([s], DUE - HOUR, 30_000)).toBe(30_000);
    expect(nextTickDelay([s], DUE - 100, 30_000)).toBe(1000);
    expect(nextTickDelay([{ ...s, paused: true }], DUE - 10_000, 30_000)).toBe(30_000);
    expect(dueSoon([s], DUE - 5 * 60_000)).toEqual([s]);
    expect(dueSoon([s], DUE - HOUR)).toEqual([]);
  });
});
