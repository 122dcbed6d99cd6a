import { describe, expect, it } from 'vitest';
import {
  commandButton,
  PAGE_COMMAND_PATTERN,
  pageButton,
  RUN_COMMAND_PATTERN,
  stripPrefix,
  withPage,
} from '../../src/blocks/command-buttons.ts';

describe('command buttons', () => {
  it('carries the command line as value and a run_command action id', () => {
    const b = commandButton('Recommend for this segment', '/audience recommend segment=2');
    expect(b).toMatchObject({ action_id: 'run_command:recommend-segment=2', value: 'recommend segment=2' });
    expect(RUN_COMMAND_PATTERN.test(b?.action_id ?? '')).toBe(true);
    expect(commandButton('Predict', 'predict segment=2', { key: 'predict-2' })?.action_id).toBe(
      'run_command:predict-2',
    );
  });

  it('refuses a command that would not fit a button value instead of cutting it', () => {
    expect(commandButton('Too long', `stats where=${'x'.repeat(2000)}`)).toBeNull();
    expect(commandButton('Empty', '/audience')).toBeNull();
  });

  it('pages by setting page=N on the command line', () => {
    expect(withPage('segments k=4 page=2', 3)).toBe('segments k=4 page=3');
    expect(withPage('segments PAGE=9 k=4', 2)).toBe('segments k=4 page=2');
    expect(withPage('stats', 0)).toBe('stats page=1');
    const more = pageButton('/audience segments k=4', 2);
    expect(more).toMatchObject({ action_id: 'page_command:page-2', value: 'segments k=4 page=2' });
    expect(PAGE_COMMAND_PATTERN.test(more?.action_id ?? '')).toBe(true);
  });

  it('strips the slash command name', () => {
    expect(stripPrefix('  /audience   stats where=x ')).toBe('stats where=x');
    expect(stripPrefix('/audiences stats')).toBe('/audiences stats');
  });
});
