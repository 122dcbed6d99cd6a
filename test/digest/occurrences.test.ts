import { describe, expect, it } from 'vitest';
import {
  nextOccurrences,
  type OccurrenceSpec,
  occurrencesBetween,
  zonedInstant,
} from '../../src/digest/occurrences.ts';
import { formatInZone } from '../../src/domain/zoned-time.ts';

const iso = (at: number) => new Date(at).toISOString();
const weekly = (zone: string, time = '09:00', weekdays = [1]): OccurrenceSpec => ({
  id: 'sch_1',
  cadence: 'weekly',
  weekdays,
  local_time: time,
  time_zone: zone,
});
const daily = (zone: string, time: string): OccurrenceSpec => ({
  id: 'sch_2',
  cadence: 'daily',
  weekdays: [],
  local_time: time,
  time_zone: zone,
});

describe('weekly Monday 09:00 stays 09:00 local across both DST changes of 2026', () => {
  it('Europe/Berlin: CET, then CEST from 29 March, then CET again from 25 October', () => {
    const spring = nextOccurrences(weekly('Europe/Berlin'), Date.parse('2026-03-20T00:00:00Z'), 2);
    expect(spring.map((o) => [o.key, iso(o.at)])).toEqual([
      ['sch_1:2026-03-23', '2026-03-23T08:00:00.000Z'],
      ['sch_1:2026-03-30', '2026-03-30T07:00:00.000Z'],
    ]);
    const autumn = nextOccurrences(weekly('Europe/Berlin'), Date.parse('2026-10-15T00:00:00Z'), 2);
    expect(autumn.map((o) => [o.key, iso(o.at)])).toEqual([
      ['sch_1:2026-10-19', '2026-10-19T07:00:00.000Z'],
      ['sch_1:2026-10-26', '2026-10-26T08:00:00.000Z'],
    ]);
    for (const o of [...spring, ...autumn]) {
      expect(formatInZone(o.at, 'Europe/Berlin')).toMatch(/^Mon \d+ \w+ 2026, 09:00 /);
      expect(o.adjusted).toBeNull();
    }
  });

  it('America/New_York: EST, then EDT from 8 March, then EST again from 1 November', () => {
    const spring = nextOccurrences(weekly('America/New_York'), Date.parse('2026-02-28T00:00:00Z'), 2);
    expect(spring.map((o) => [o.key, iso(o.at)])).toEqual([
      ['sch_1:2026-03-02', '2026-03-02T14:00:00.000Z'],
      ['sch_1:2026-03-09', '2026-03-09T13:00:00.000Z'],
    ]);
    const autumn = nextOccurrences(weekly('America/New_York'), Date.parse('2026-10-24T00:00:00Z'), 2);
    expect(autumn.map((o) => [o.key, iso(o.at)])).toEqual([
      ['sch_1:2026-10-26', '2026-10-26T13:00:00.000Z'],
      ['sch_1:2026-11-02', '2026-11-02T14:00:00.000Z'],
    ]);
    expect(autumn.map((o) => formatInZone(o.at, 'America/New_York'))).toEqual([
      'Mon 26 Oct 2026, 09:00 EDT',
      'Mon 2 Nov 2026, 09:00 EST',
    ]);
  });

  it('keeps the two zones 5 hours apart while only New York has changed, 6 hours otherwise', () => {
    const at = (zone: string, from: string) => nextOccurrences(weekly(zone), Date.parse(from), 1)[0]?.at ?? 0;
    expect(
      (at('America/New_York', '2026-03-14T00:00:00Z') - at('Europe/Berlin', '2026-03-14T00:00:00Z')) / 3.6e6,
    ).toBe(5);
    expect(
      (at('America/New_York', '2026-05-01T00:00:00Z') - at('Europe/Berlin', '2026-05-01T00:00:00Z')) / 3.6e6,
    ).toBe(6);
  });
});

describe('local times that do not exist or exist twice', () => {
  it('sends a time inside the spring-forward gap at the next valid minute (03:00)', () => {
    const found = occurrencesBetween(
      daily('Europe/Berlin', '02:30'),
      Date.parse('2026-03-28T12:00:00Z'),
      Date.parse('2026-03-30T12:00:00Z'),
    );
    expect(found.map((o) => [o.localDate, iso(o.at), o.adjusted])).toEqual([
      ['2026-03-29', '2026-03-29T01:00:00.000Z', 'gap'],
      ['2026-03-30', '2026-03-30T00:30:00.000Z', null],
    ]);
    expect(formatInZone(found[0]?.at ?? 0, 'Europe/Berlin')).toBe('Sun 29 Mar 2026, 03:00 GMT+2');
    const ny = zonedInstant({ year: 2026, month: 3, day: 8 }, { hour: 2, minute: 30 }, 'America/New_York');
    expect(ny && [iso(ny.at), ny.adjusted]).toEqual(['2026-03-08T07:00:00.000Z', 'gap']);
  });

  it('sends a repeated fall-back time once, at the first of the two', () => {
    const found = occurrencesBetween(
      daily('Europe/Berlin', '02:30'),
      Date.parse('2026-10-24T12:00:00Z'),
      Date.parse('2026-10-26T12:00:00Z'),
    );
    expect(found.map((o) => [o.key, iso(o.at), o.adjusted])).toEqual([
      ['sch_2:2026-10-25', '2026-10-25T00:30:00.000Z', 'repeated'],
      ['sch_2:2026-10-26', '2026-10-26T01:30:00.000Z', null],
    ]);
    // Even a window covering only the second 02:30 finds nothing new: the day's key is already past.
    const second = occurrencesBetween(
      daily('Europe/Berlin', '02:30'),
      Date.parse('2026-10-25T01:00:00Z'),
      Date.parse('2026-10-25T02:00:00Z'),
    );
    expect(second).toEqual([]);
    const ny = zonedInstant({ year: 2026, month: 11, day: 1 }, { hour: 1, minute: 30 }, 'America/New_York');
    expect(ny && [iso(ny.at), ny.adjusted]).toEqual(['2026-11-01T05:30:00.000Z', 'repeated']);
  });
});

describe('cadences and keys', () => {
  it('monthly goes out on the first chosen weekday of each month', () => {
    const spec: OccurrenceSpec = { ...weekly('America/New_York'), cadence: 'monthly' };
    expect(nextOccurrences(spec, Date.parse('2026-03-20T00:00:00Z'), 3).map((o) => o.localDate)).toEqual([
      '2026-04-06',
      '2026-05-04',
      '2026-06-01',
    ]);
  });

  it('weekly on several days, keyed by schedule id and local date', () => {
    const spec = weekly('Asia/Tokyo', '18:15', [1, 3, 5]);
    const found = occurrencesBetween(
      spec,
      Date.parse('2026-06-01T00:00:00Z'),
      Date.parse('2026-06-08T00:00:00Z'),
    );
    expect(found.map((o) => o.key)).toEqual(['sch_1:2026-06-01', 'sch_1:2026-06-03', 'sch_1:2026-06-05']);
    expect(iso(found[0]?.at ?? 0)).toBe('2026-06-01T09:15:00.000Z');
  });

  it('an invalid zone or time yields no occurrences instead of throwing', () => {
    expect(nextOccurrences(weekly('Mars/Olympus'), 0, 3)).toEqual([]);
    expect(nextOccurrences(weekly('Europe/Berlin', '25:00'), 0, 3)).toEqual([]);
    expect(occurrencesBetween(weekly('Nope/Nope'), 0, 1e12)).toEqual([]);
  });
});
