import { describe, expect, it } from 'vitest';
import { createRouter } from '../../commands/router.ts';
import { ConfigError } from '../../src/config.ts';
import { DigestError } from '../../src/digest/validate.ts';
import { ImportError, isUserError, OperatorError, UsageError, UserError } from '../../src/domain/errors.ts';
import type { Invocation } from '../../src/domain/reply.ts';
import { FeatureError } from '../../src/engine/features.ts';
import { FilterError } from '../../src/engine/filter.ts';
import { PredictError } from '../../src/engine/predict.ts';
import { RecommendError } from '../../src/engine/recommend.ts';
import { SegmentError } from '../../src/engine/segments.ts';
import { AuditError } from '../../src/privacy/audit.ts';
import { PseudonymKeyError } from '../../src/privacy/pseudonym.ts';
import { StoreError } from '../../src/store/store.ts';

describe('UserError', () => {
  it('is the one base of every error meant to be read, each with a stable string code', () => {
    const errors: UserError[] = [
      new UsageError('x'),
      new FeatureError('x'),
      new SegmentError('x'),
      new PredictError('x'),
      new RecommendError('x'),
      new FilterError('x'),
      new DigestError('x'),
      new ImportError('x'),
      new AuditError('x'),
      new ConfigError('x'),
      new PseudonymKeyError('x'),
      new StoreError('locked', '/tmp/a.db', 'x'),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(UserError);
      expect(error.code).toMatch(/^[a-z_]+$/);
    }
    expect(errors.map((e) => e.code)).toEqual([
      'usage',
      'feature',
      'segment',
      'predict',
      'recommend',
      'filter',
      'digest',
      'import',
      'audit_since',
      'config',
      'pseudonym_key',
      'locked',
    ]);
  });

  it('tells operator problems apart: shown on the CLI and console, not to a Slack user', () => {
    const stored = new StoreError('unwritable', '/srv/audience.db', 'cannot save /srv/audience.db');
    expect(stored).toBeInstanceOf(OperatorError);
    expect(isUserError(stored, 'cli')).toBe(true);
    expect(isUserError(stored, 'slack')).toBe(false);
    expect(isUserError(new FilterError('x'), 'slack')).toBe(true);
    expect(isUserError(new TypeError('x'), 'cli')).toBe(false);
  });

  it('is how the router decides: a user error is answered, anything else is logged', async () => {
    const reported: unknown[] = [];
    // A subclass named like no known error: the decision must not depend on class names.
    class OddlyNamed extends UserError {
      readonly code = 'odd';
    }
    const router = createRouter(
      [
        {
          name: 'odd',
          summary: 'odd',
          usage: '/audience odd',
          examples: [],
          run: async () => {
            throw new OddlyNamed('that is odd: try even');
          },
        },
        {
          name: 'save',
          summary: 'save',
          usage: '/audience save',
          examples: [],
          run: async () => {
            throw new StoreError('unwritable', '/srv/audience.db', 'cannot save /srv/audience.db');
          },
        },
      ],
      (error) => reported.push(error),
    );
    const slack: Invocation = { userId: 'U1', channelId: 'C1', surface: 'slack' };
    expect((await router.dispatch('odd', slack)).text).toContain('that is odd: try even');
    expect((await router.dispatch('save', slack)).text).toMatch(/Something went wrong/);
    expect(reported).toHaveLength(1);
    const console: Invocation = { ...slack, surface: 'console' };
    expect((await router.dispatch('save', console)).text).toContain('cannot save /srv/audience.db');
  });
});
