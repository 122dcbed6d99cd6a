import { describe, expect, it } from 'vitest';
import { ImportError } from '../../src/domain/errors.ts';
import { attributeName, ColumnResolver } from '../../src/import/columns.ts';

const fields = (plan: { columns: Array<{ source: string; field: string; custom: boolean }> }) =>
  Object.fromEntries(plan.columns.map((c) => [c.source, c.custom ? `attr:${c.field}` : c.field]));

describe('ColumnResolver', () => {
  it('matches names and aliases ignoring case, spaces and underscores', () => {
    const plan = new ColumnResolver('interactions').plan([
      'User ID',
      'ITEM',
      'Event',
      'created_at',
      'Amount',
      'x',
    ]);
    expect(fields(plan)).toEqual({
      'User ID': 'user_id',
      ITEM: 'item_id',
      Event: 'type',
      created_at: 'timestamp',
      Amount: 'value',
    });
    expect(plan.ignored).toEqual([{ column: 'x', reason: 'not a field of interactions' }]);
    expect(plan.missing).toEqual([]);
  });

  it('does not take uid as a profile id unless mapped', () => {
    const auto = new ColumnResolver('profiles').plan(['uid', 'platform']);
    expect(auto.missing.map((f) => f.name)).toEqual(['id']);
    expect(fields(auto)).toEqual({ uid: 'attr:uid', platform: 'platform' });

    const mapped = new ColumnResolver('profiles', { id: 'UID', followers: 'fans', tier: 'Level' }).plan([
      'uid',
      'fans',
      'Level',
    ]);
    expect(fields(mapped)).toEqual({ uid: 'id', fans: 'followers', Level: 'attr:tier' });
  });

  it('an explicit map wins over an alias, and the shadowed column is ignored', () => {
    const plan = new ColumnResolver('profiles', { id: 'member' }).plan(['id', 'member']);
    expect(fields(plan)).toEqual({ member: 'id' });
    expect(plan.ignored).toEqual([{ column: 'id', reason: 'id comes from column "member"' }]);
  });

  it('reports map sources the file lacks', () => {
    const plan = new ColumnResolver('products', { price: 'cost' }).plan(['id', 'name']);
    expect(plan.unmatchedMap).toEqual([{ field: 'price', source: 'cost' }]);
  });

  it('rejects unknown map targets outside profiles and clashing attribute names', () => {
    expect(() => new ColumnResolver('products', { colour: 'c' })).toThrow(ImportError);
    expect(() => new ColumnResolver('profiles').plan(['id', 'Tier', 'tier'])).toThrow(
      /both become attribute "tier"/,
    );
  });

  it('names attributes in lower snake case', () => {
    expect(attributeName(' Loyalty Tier ')).toBe('loyalty_tier');
    expect(attributeName('Âge (ans)')).toBe('âge_ans');
    expect(attributeName('---')).toBe('');
  });
});
