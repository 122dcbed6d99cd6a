import { describe, expect, it } from 'vitest';
import {
  FIRST_SCHEMA_VERSION,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  MigrationError,
  type MigrationStep,
  migrate,
} from '../../src/store/migrations.ts';
import { SCHEMA_VERSION } from '../../src/store/store.ts';

const steps: MigrationStep[] = [
  {
    from: 1,
    description: 'add tags',
    up: (d) => ({ ...d, tags: [] }),
  },
  {
    from: 2,
    description: 'rename tags to labels',
    up: ({ tags, ...rest }) => ({ ...rest, labels: tags }),
  },
];

describe('migrate', () => {
  it('the schema version follows from the migration list', () => {
    expect(SCHEMA_VERSION).toBe(LATEST_SCHEMA_VERSION);
    expect(LATEST_SCHEMA_VERSION).toBe(FIRST_SCHEMA_VERSION + MIGRATIONS.length);
    for (const [i, step] of MIGRATIONS.entries()) expect(step.from).toBe(FIRST_SCHEMA_VERSION + i);
  });

  it('runs the steps in order and stamps each version', () => {
    const { data, applied } = migrate({ schemaVersion: 1, profiles: [] }, 1, steps, 3);
    expect(data).toEqual({ schemaVersion: 3, profiles: [], labels: [] });
    expect(applied).toEqual(['1 -> 2: add tags', '2 -> 3: rename tags to labels']);
  });

  it('starts from the middle of the chain', () => {
    expect(migrate({ tags: ['a'] }, 2, steps, 3).data).toEqual({ labels: ['a'], schemaVersion: 3 });
  });

  it('does nothing at the target version', () => {
    const input = { schemaVersion: 3 };
    expect(migrate(input, 3, steps, 3)).toEqual({ data: input, applied: [] });
  });

  it('explains a missing step, a newer version, and a failing step', () => {
    expect(() => migrate({}, 0, steps, 3)).toThrow('there is no migration from schema version 0 to 1');
    expect(() => migrate({}, 4, steps, 3)).toThrow(MigrationError);
    const broken: MigrationStep = {
      from: 1,
      description: 'explode',
      up: () => {
        throw new Error('boom');
      },
    };
    expect(() => migrate({}, 1, [broken], 2)).toThrow('migration 1 -> 2 (explode) failed: boom');
  });
});
