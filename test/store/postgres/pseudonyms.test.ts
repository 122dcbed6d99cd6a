/**
 * Lookups by pseudonym (`user=@jane`, `forget jane@example.com`) on PostgreSQL read the pseudonym table by key,
 * never the audience: they answer with the snapshot refused (SNAPSHOT_MAX_ROWS 1), the same ids in the same order
 * as the file backend's index over the profiles, and the table follows every change to the profiles.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Profile } from '../../../src/domain/types.ts';
import { createPseudonymizer } from '../../../src/privacy/pseudonym.ts';
import { lookupIn, peopleIndex, resolveUserRef } from '../../../src/privacy/resolve.ts';
import { personLookupFor } from '../../../src/queries/people.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { rebuildRollups } from '../../../src/store/postgres/rollups.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const TEAM = 'TPSEUDO';
const keyed = createPseudonymizer('pseudonym-test-key-0123456789');
const handle = (h: string) => keyed.pseudonym(h, 'handle');

const person = (id: string, attrs: Profile['attrs']): Profile => ({
  id,
  platform: 'instagram',
  country: null,
  created_at: null,
  last_active_at: null,
  followers: null,
  interests: [],
  attrs,
});

describePostgres('pseudonym lookups by index', () => {
  const db = usePostgresSchema('pseudonyms');
  let store: PgStore;
  let pool: pg.Pool;
  const profiles = [
    person('u1', { handle: handle('@jane'), email: keyed.pseudonym('jane@example.com', 'email') }),
    person('u2', { handle: handle('@bob'), tier: 'gold' }),
    // Two profiles carry one handle (imported from two platforms): both ids, in stored order.
    person('u3', { aliases: [handle('@twin'), 'not-a-pseudonym'], n: 3 }),
    person('u4', { handle: handle('@twin') }),
    person('u5', { note: 'ps_tooshort' }),
  ];

  /** The table equals what the app's own index over the stored profiles finds. */
  async function expectSameAsTheIndex(): Promise<void> {
    const stored = await store.audience.profiles();
    const index = peopleIndex(stored).byPseudonym();
    const owners = await store.audience.pseudonymOwners?.([...index.keys(), handle('@nobody')]);
    expect(owners && Object.fromEntries(owners)).toEqual(Object.fromEntries(index));
  }

  beforeAll(async () => {
    const loader = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: TEAM,
      onNotice: () => undefined,
    });
    await loader.change((tx) =>
      tx.replaceAudience({
        profiles,
        interactions: [],
        products: [],
        attributes: {
          handle: 'category',
          email: 'category',
          tier: 'category',
          aliases: 'list',
          n: 'number',
          note: 'category',
        },
      }),
    );
    await loader.close();
    store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: TEAM,
      onNotice: () => undefined,
      snapshotMaxRows: 1,
    });
    pool = new pg.Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema}` });
  });
  afterAll(async () => {
    await pool?.end();
    await store?.close();
  });

  it('resolves @handles, e-mail addresses and ids without reading the audience', async () => {
    await expect(store.audience.snapshot()).rejects.toThrow();
    const people = personLookupFor(store);
    expect(await resolveUserRef(people, '@Jane', keyed)).toBe('u1');
    expect(await resolveUserRef(people, 'JANE@example.com', keyed)).toBe('u1');
    expect(await resolveUserRef(people, 'bob', keyed)).toBe('u2');
    expect(await resolveUserRef(people, 'u5', keyed)).toBe('u5');
    await expect(resolveUserRef(people, '@twin', keyed)).rejects.toThrow(/matches 2 profiles/);
    await expect(resolveUserRef(people, '@nobody', keyed)).rejects.toThrow(/no profile has that handle/);
    // The file backend's path, over the same profiles, answers the same.
    const inMemory = lookupIn(peopleIndex(profiles));
    expect(await inMemory.withPseudonym(handle('@twin'))).toEqual(
      await people.withPseudonym(handle('@twin')),
    );
    await expectSameAsTheIndex();
  });

  it('follows imports that change attributes, forget, and a rebuild', async () => {
    await store.change(async (tx) => {
      await tx.upsertProfiles(
        [
          { id: 'u2', attrs: { handle: handle('@robert') } },
          { id: 'u6', attrs: { handle: handle('@jane') } },
        ],
        {},
      );
      await tx.removePeople(new Set(['u4']));
    });
    await expectSameAsTheIndex();
    expect(await store.audience.pseudonymOwners?.([handle('@bob'), handle('@jane')])).toEqual(
      new Map([[handle('@jane'), ['u1', 'u6']]]),
    );
    await pool.query('DELETE FROM profile_pseudonyms');
    await pool.query('BEGIN');
    await rebuildRollups(pool, TEAM);
    await pool.query('COMMIT');
    await expectSameAsTheIndex();
  });
});
