import { describe, expect, it } from 'vitest';
import { checkOptions, segmentOption } from '../../commands/options.ts';
import { parseCommand } from '../../commands/parse.ts';
import { UsageError } from '../../src/domain/errors.ts';

describe('checkOptions', () => {
  const spec = { options: ['target', 'features', 'user', 'segment'] };

  it('accepts what a subcommand takes', () => {
    expect(() => checkOptions(parseCommand('predict user=u000001'), 'predict', spec)).not.toThrow();
    expect(() =>
      checkOptions(parseCommand('export segments n=3'), 'export', { options: ['n'], positional: 1 }),
    ).not.toThrow();
  });

  it('names every option and word it does not take, what it takes, and the likely meaning of a typo', () => {
    const refusal = () => checkOptions(parseCommand('predict segmnet=2 extra'), 'predict', spec);
    expect(refusal).toThrow(UsageError);
    expect(refusal).toThrow(
      'predict does not take segmnet= extra: predict takes only target=, features=, user= and segment=; remove segmnet= extra',
    );
    expect(() => checkOptions(parseCommand('predict segmnet=2'), 'predict', spec)).toThrow(
      /\(did you mean segment=\?\)$/,
    );
    expect(() =>
      checkOptions(parseCommand('digest list k=3'), 'digest list', { options: [], positional: 9 }),
    ).toThrow('digest list does not take k=: digest list takes no key=value options; remove k=');
  });

  it('reads segment numbers', () => {
    expect(segmentOption(undefined)).toBeUndefined();
    expect(segmentOption('2')).toBe(2);
    expect(() => segmentOption('0')).toThrow(/not a segment number/);
    expect(() => segmentOption('two')).toThrow(/not a segment number/);
  });
});
