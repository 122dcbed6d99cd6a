import { describe, expect, it } from 'vitest';
import { parseCommand, tokenize } from '../../commands/parse.ts';
import { UsageError } from '../../src/domain/errors.ts';

describe('tokenize', () => {
  it('splits on whitespace and keeps quoted values whole, including Slack curly quotes', () => {
    expect(tokenize('stats  where="country:United States"')).toEqual([
      'stats',
      'where=country:United States',
    ]);
    expect(tokenize('stats where=“country:United States”')).toEqual(['stats', 'where=country:United States']);
    expect(tokenize("recommend user='a b'")).toEqual(['recommend', 'user=a b']);
  });

  it('rejects an unclosed quote with a reason', () => {
    expect(() => tokenize('stats where="country:DE')).toThrow(/never closed/);
  });
});

describe('parseCommand', () => {
  it('reads subcommand, positionals and case-insensitive options, with or without /audience', () => {
    expect(parseCommand('/audience segments k=5 Features=a,b extra')).toEqual({
      subcommand: 'segments',
      positional: ['extra'],
      options: { k: '5', features: 'a,b' },
      raw: '/audience segments k=5 Features=a,b extra',
    });
    expect(parseCommand('STATS').subcommand).toBe('stats');
    expect(parseCommand('   ').subcommand).toBe('');
  });

  it('keeps values that contain = or :', () => {
    expect(parseCommand('stats where=followers>=1000').options).toEqual({ where: 'followers>=1000' });
  });

  it('refuses duplicated options and nameless values', () => {
    expect(() => parseCommand('segments k=2 k=3')).toThrow(UsageError);
    expect(() => parseCommand('segments =3')).toThrow(/no option name/);
  });
});
