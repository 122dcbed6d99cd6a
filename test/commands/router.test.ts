import { describe, expect, it } from 'vitest';
import { createRouter } from '../../commands/router.ts';
import { UsageError } from '../../src/domain/errors.ts';
import type { Invocation, Subcommand } from '../../src/domain/reply.ts';

const invocation: Invocation = { userId: 'U1', channelId: 'C1', surface: 'console' };

function command(name: string, run: Subcommand['run']): Subcommand {
  return {
    name,
    summary: `${name} things`,
    usage: `/audience ${name} [x=1]`,
    examples: [`/audience ${name}`],
    run,
  };
}

describe('router', () => {
  const errors: unknown[] = [];
  const router = createRouter(
    [
      command('stats', async (args) => ({ text: `stats ${JSON.stringify(args.options)}`, blocks: [] })),
      command('segments', async () => {
        throw new UsageError('k must be between 2 and 12');
      }),
      command('predict', async () => {
        throw new TypeError('boom');
      }),
    ],
    (error) => errors.push(error),
  );

  it('dispatches to the subcommand with parsed options', async () => {
    const reply = await router.dispatch('/audience stats where=country:DE', invocation);
    expect(reply.text).toBe('stats {"where":"country:DE"}');
  });

  it('answers an unknown subcommand with the closest match and the help', async () => {
    const reply = await router.dispatch('/audience segmnts k=3', invocation);
    expect(reply.text).toContain('Unknown subcommand "segmnts". Did you mean `/audience segments`?');
    expect(JSON.stringify(reply.blocks)).toContain('/audience predict [x=1]');
  });

  it('shows help for an empty command', async () => {
    const reply = await router.dispatch('/audience', invocation);
    expect(reply.text).toContain('stats, segments, predict');
  });

  it('turns bad input into a one-line reason plus usage', async () => {
    const reply = await router.dispatch('segments k=40', invocation);
    expect(reply.text).toBe('k must be between 2 and 12 Usage: /audience segments [x=1]');
    expect(reply.data).toEqual({
      error: 'k must be between 2 and 12',
      usage: 'Usage: /audience segments [x=1]',
    });
    const unclosed = await router.dispatch('stats where="x', invocation);
    expect(unclosed.text).toMatch(/never closed/);
  });

  it('logs unexpected failures and shows no stack trace to the user', async () => {
    const reply = await router.dispatch('predict', invocation);
    expect(reply.text).toMatch(/Something went wrong while running \/audience predict/);
    expect(reply.text).not.toContain('boom');
    expect(errors).toHaveLength(1);
  });
});
