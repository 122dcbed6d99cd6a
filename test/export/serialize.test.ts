import { describe, expect, it } from 'vitest';
import { toCsv, toJson } from '../../src/export/serialize.ts';

describe('CSV exports', () => {
  it('never hands a spreadsheet a formula from imported data, and keeps negative numbers numbers', () => {
    const table = {
      columns: ['id', 'name', 'value'],
      rows: [
        ['=HYPERLINK("http://x")', '+1', -3],
        ['@SUM(A1)', '-2+3', 4],
        ['u000001', 'Cape, "long"', 1.5],
      ],
    };
    const csv = toCsv(table).toString('utf8').split('\n');
    expect(csv[1]).toBe(`"'=HYPERLINK(""http://x"")",'+1,-3`);
    expect(csv[2]).toBe(`'@SUM(A1),'-2+3,4`);
    expect(csv[3]).toBe('u000001,"Cape, ""long""",1.5');
    // JSON is data, not a sheet: values stay as they are.
    expect(JSON.parse(toJson(table).toString('utf8'))[0].id).toBe('=HYPERLINK("http://x")');
  });
});
